import Foundation
import NN
import Tensor

/// Vision Transformer (Dosovitskiy et al., ICLR 2021), laid out as timm's
/// `vision_transformer.py`: the same modules, parameter names and forward, so a timm
/// `state_dict` loads 1:1 and outputs match timm's.

/// Image → patch tokens: a patch-size convolution, flattened to [B, N, D].
public final class PatchEmbed: Module {
    public let proj: Conv2d

    init(_ c: VisionTransformerConfig, using rng: inout WeightInit) {
        let fanIn = c.inChans * c.patchSize * c.patchSize
        proj = Conv2d(weight: rng.truncatedNormal([c.embedDim, c.inChans, c.patchSize, c.patchSize], std: 1 / Float(fanIn).squareRoot()),
                      bias: c.preNorm ? nil : Tensor.zeros([c.embedDim]), stride: (c.patchSize, c.patchSize))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = proj(x)                                           // [B, D, h, w]
        return y.flattened(from: 2).transposed(1, 2)              // [B, h·w, D]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("proj", proj) }
}

/// Multi-head self-attention with a fused qkv projection.
public final class Attention: Module {
    public let qkv: Linear
    public let proj: Linear
    public let numHeads: Int
    public let scale: Float

    init(_ c: VisionTransformerConfig, using rng: inout WeightInit) {
        qkv = vitLinear(c.embedDim, 3 * c.embedDim, bias: c.qkvBias, using: &rng)
        proj = vitLinear(c.embedDim, c.embedDim, bias: true, using: &rng)
        numHeads = c.numHeads
        scale = 1 / Float(c.headDim).squareRoot()
    }

    /// Returns the output and, when asked, the attention probabilities [B, heads, N, N(+P)].
    func callAsFunction(_ x: Tensor, hooks: [AttentionHook], keepProbabilities: Bool, context: inout ForwardContext) -> (Tensor, Tensor?) {
        if hooks.isEmpty && !keepProbabilities {
            // Nothing modifies q, k, v: read them straight from the fused projection.
            return (proj(fusedSelfAttention(qkv(x), heads: numHeads, scale: scale)), nil)
        }
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let heads = qkv(x).reshaped([b, n, 3, numHeads, d / numHeads]).permuted([2, 0, 3, 1, 4])
        func part(_ i: Int) -> Tensor { heads.narrowed(0, start: i, length: 1).reshaped([b, numHeads, n, d / numHeads]) }
        var inputs = AttentionInputs(q: part(0), k: part(1), v: part(2))
        for hook in hooks { hook.modify(&inputs, normed: x, context: &context) }
        let probabilities = keepProbabilities
            ? withoutGradients { attentionProbabilities(inputs.q, inputs.k, extraKeys: inputs.extraKeys, scale: scale) } : nil
        let mixed = attention(inputs.q, inputs.k, inputs.v, extraKeys: inputs.extraKeys, extraValues: inputs.extraValues, scale: scale)
            .transposed(1, 2).reshaped([b, n, d])
        return (proj(mixed), probabilities)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("qkv", qkv) + prefixed("proj", proj) }
}

/// The feed-forward sub-layer: fc1 → activation → fc2.
public final class Mlp: Module {
    public let fc1: Linear
    public let fc2: Linear
    public let act: Activation

    convenience init(_ c: VisionTransformerConfig, using rng: inout WeightInit) {
        self.init(c.embedDim, hidden: c.mlpHidden, act: c.actLayer, using: &rng)
    }

    /// dim → hidden → dim (Swin's blocks use the same module).
    init(_ dim: Int, hidden: Int, act: Activation, using rng: inout WeightInit) {
        fc1 = vitLinear(dim, hidden, bias: true, using: &rng)
        fc2 = vitLinear(hidden, dim, bias: true, using: &rng)
        self.act = act
    }

    /// Recompute fc1 → activation in the backward instead of keeping its [B, N, 4D] output
    /// (activation checkpointing: about 15 % more arithmetic per ViT training step, 3 [B, N, D]
    /// tensors less memory per block; the block also recomputes norm2 when no branch hook reads
    /// its output, 4 less). fc1's and norm2's hooks must not draw random numbers.
    public var recompute = false

    func callAsFunction(_ x: Tensor) -> Tensor {
        fc2(recompute ? checkpointed(x) { [fc1, act] in act(fc1($0)) } : act(fc1(x)))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("fc1", fc1) + prefixed("fc2", fc2) }
}

/// Per-channel scaling of a residual branch (CaiT's LayerScale; timm's `ls1`/`ls2`).
public final class LayerScale: Module {
    public var gamma: Tensor

    init(_ dim: Int, initValue: Float) { gamma = Tensor.full([dim], initValue) }

    func callAsFunction(_ x: Tensor) -> Tensor { x * gamma }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("gamma", gamma)] }
}

/// A pre-norm transformer block:
///     x = x + DropPath(ls1(attn(norm1(x))));  x = x + DropPath(ls2(mlp(norm2(x))))
/// with the PEFT sites of `Sites.swift` around each sub-layer.
public final class Block: Module {
    public let norm1: LayerNorm
    public let attn: Attention
    public let ls1: LayerScale?
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let ls2: LayerScale?
    /// Stochastic-depth rate of this block (training only).
    public var dropPath: Float
    public var hooks = BlockHooks()
    /// The timm path (`blocks.5`); a standalone block (a side network's) has its owner's.
    public let path: String
    public let tokenGrid: TokenGrid
    /// VideoMAE's blocks: q and v biases only, the fused bias's key third a constant.
    public internal(set) var keyBiasIsFixedZero = false

    init(_ c: VisionTransformerConfig, path: String, dropPath: Float, using rng: inout WeightInit) {
        self.path = path
        tokenGrid = TokenGrid(prefixTokens: c.prefixTokens, side: c.gridSize)
        norm1 = LayerNorm(c.embedDim, eps: c.normEps)
        attn = Attention(c, using: &rng)
        ls1 = c.initValues.map { LayerScale(c.embedDim, initValue: $0) }
        norm2 = LayerNorm(c.embedDim, eps: c.normEps)
        mlp = Mlp(c, using: &rng)
        ls2 = c.initValues.map { LayerScale(c.embedDim, initValue: $0) }
        self.dropPath = dropPath
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext, index: Int) -> Tensor {
        hooks.output.apply(outputBeforeHooks(x, context: &context, index: index), &context)
    }

    /// The block's output before its output hooks: what a side network reads (`sideInputs`).
    func outputBeforeHooks(_ x: Tensor, context: inout ForwardContext, index: Int) -> Tensor {
        var x = hooks.input.apply(x, &context)
        let h1 = norm1(x)
        let (a, probabilities) = attn(h1, hooks: hooks.attention, keepProbabilities: context.options.attentionBlocks.contains(index), context: &context)
        if let probabilities { context.attention[index] = probabilities }
        x = residual(x, ls1.map { $0(a) } ?? a, normed: h1, hooks: hooks.attnBranch, dropPath: dropPath, context: &context)
        if mlp.recompute && !hooks.mlpBranch.contains(where: \.readsNormed) {
            // Nothing but the MLP reads norm2's output, so norm2 → fc1 → activation is recomputed
            // in the backward from the stream x: one [B, N, D] tensor kept instead of norm2's
            // normalised input and the [B, N, 4D] activation input. (No branch hook reads
            // `normed`, so the stream stands in for it.)
            let m = mlp.fc2(checkpointed(x) { [norm2, mlp] in mlp.act(mlp.fc1(norm2($0))) })
            return residual(x, ls2.map { $0(m) } ?? m, normed: x, hooks: hooks.mlpBranch, dropPath: dropPath, context: &context)
        }
        let h2 = norm2(x)
        let m = mlp(h2)
        return residual(x, ls2.map { $0(m) } ?? m, normed: h2, hooks: hooks.mlpBranch, dropPath: dropPath, context: &context)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("norm1", norm1) + prefixed("attn", attn) + prefixed("ls1", ls1)
            + prefixed("norm2", norm2) + prefixed("mlp", mlp) + prefixed("ls2", ls2)
    }
}

extension Block {
    /// A block of `config`'s width with timm's init, outside any ViT: side networks (LST) build
    /// their own transformer from it.
    public convenience init(standalone config: VisionTransformerConfig, path: String, using rng: inout SeededRandom) {
        var weights = WeightInit(random: true, rng: rng)
        self.init(config, path: path, dropPath: 0, using: &weights)
        rng = weights.rng
    }

    /// The block's forward outside a ViT's pass (no attention maps are kept).
    public func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        self(x, context: &context, index: -1)
    }
}

/// The ViT block as a PEFT site: one token sequence, class token first, then the patch grid.
extension Block: TransformerBlockSite {
    public var width: Int { norm1.weight.count }
    public var heads: Int { attn.numHeads }
    public var qkv: Linear { attn.qkv }
    public var proj: Linear { attn.proj }
    public var fc1: Linear { mlp.fc1 }
    public var fc2: Linear { mlp.fc2 }
    public var branchScales: (attn: LayerScale?, mlp: LayerScale?) { (ls1, ls2) }
}

/// What a forward pass should record besides the output.
public struct ForwardOptions {
    /// Training mode: stochastic depth active.
    public var training = false
    /// Keep the token sequence after every block.
    public var keepBlockOutputs = false
    /// Blocks whose attention probabilities to keep.
    public var attentionBlocks: Set<Int> = []

    public init(training: Bool = false, keepBlockOutputs: Bool = false, attentionBlocks: Set<Int> = []) {
        self.training = training
        self.keepBlockOutputs = keepBlockOutputs
        self.attentionBlocks = attentionBlocks
    }
}

/// State threaded through the blocks and hooks of one forward pass.
public struct ForwardContext {
    public var options: ForwardOptions
    /// Drop-path, dropout and other stochastic choices of this pass.
    public var rng: SeededRandom
    public var attention: [Int: Tensor] = [:]
    /// Outputs of the blocks run so far (when `options.keepBlockOutputs`).
    public var blockOutputs: [Tensor] = []
}

/// Everything a forward pass produced (fields a backbone does not have stay empty).
public struct BackboneOutput {
    /// Classifier output [B, classes]; nil when the model has no head.
    public var logits: Tensor?
    /// The pooled pre-logits feature [B, D] (after fc_norm).
    public var features: Tensor
    /// ViT: the token sequence entering block 0 (after position embedding and pre-norm);
    /// Swin: the patch map [B, h, w, C]; CNN: the stem's output.
    public var tokens: Tensor
    /// Each block's output, when `keepBlockOutputs`.
    public var blockOutputs: [Tensor]
    /// The final normalised token sequence (`forward_features`; Swin: the normalised last map
    /// [B, h, w, C]); CNN: the last feature map.
    public var final: Tensor
    /// Attention probabilities [B, heads, N, N] of the requested blocks (ViT).
    public var attention: [Int: Tensor]

    public init(logits: Tensor?, features: Tensor, tokens: Tensor, blockOutputs: [Tensor], final: Tensor, attention: [Int: Tensor]) {
        (self.logits, self.features, self.tokens, self.blockOutputs, self.final, self.attention) = (logits, features, tokens, blockOutputs, final, attention)
    }
}

public final class VisionTransformer: Backbone {
    public let config: VisionTransformerConfig
    public let patchEmbed: PatchEmbed
    public var clsToken: Tensor?
    public var posEmbed: Tensor
    public let normPre: LayerNorm?
    public let blocks: [Block]
    public let norm: LayerNorm?
    public let fcNorm: LayerNorm?
    public var head: Linear?
    /// Sites on the whole sequence: after embedding (`tokens`), on the final normalised
    /// sequence (`final`), on the pooled features (`features`).
    public var tokenHooks: [TokenHook] = []
    public var finalHooks: [TokenHook] = []
    public var featureHooks: [TokenHook] = []
    public var preprocessing: Preprocessing
    /// The blocks whose outputs dense heads read (`stageFeatures`); set with `setOutIndices`.
    public internal(set) var outIndices: [Int]

    /// A model with timm-style random initialisation (trunc-normal 0.02 for linear weights and
    /// the position embedding, zero biases, cls N(0, 1e-6)); load a checkpoint for real use.
    /// `randomInit: false` fills the weights with zeros instead (fast; for shapes and counts).
    public init(_ config: VisionTransformerConfig, seed: UInt64 = 0, randomInit: Bool = true) throws {
        try config.validate()
        self.config = config
        var rng = WeightInit(random: randomInit, rng: SeededRandom(seed: seed).derived("vit-init"))
        patchEmbed = PatchEmbed(config, using: &rng)
        clsToken = config.classToken ? rng.truncatedNormal([1, 1, config.embedDim], std: 1e-6) : nil
        posEmbed = rng.truncatedNormal([1, config.tokenCount, config.embedDim], std: 0.02)
        normPre = config.preNorm ? LayerNorm(config.embedDim, eps: config.normEps) : nil
        blocks = (0..<config.depth).map { Block(config, path: "blocks.\($0)", dropPath: 0, using: &rng) }
        norm = config.usesFcNorm ? nil : LayerNorm(config.embedDim, eps: config.normEps)
        fcNorm = config.usesFcNorm ? LayerNorm(config.embedDim, eps: config.normEps) : nil
        head = config.numClasses > 0 ? Linear(config.embedDim, config.numClasses, using: &rng.rng) : nil
        preprocessing = config.defaultPreprocessing
        outIndices = Self.defaultOutIndices(depth: config.depth)
        setDropPathRate(config.dropPathRate)
    }

    public var numFeatures: Int { config.embedDim }
    public var inputSize: Int { config.imgSize }
    public var architecture: String {
        "vit (img \(config.imgSize), patch \(config.patchSize), dim \(config.embedDim), depth \(config.depth), heads \(config.numHeads))"
    }
    public var architectureIdentity: String {
        var c = config
        c.numClasses = 0
        c.dropPathRate = 0
        return canonicalIdentity(c)
    }

    public var transformerBlocks: [any TransformerBlockSite] { blocks }
    public var tokenLayers: [(name: String, layer: TokenLayer)] { [("patch_embed.proj", .conv(patchEmbed.proj)), (finalNorm.name, .norm(finalNorm.layer))] }
    public var outputNorm: (name: String, layer: LayerNorm)? { finalNorm }

    /// Whether every block's MLP recomputes fc1 → activation in the backward (`Mlp.recompute`).
    public var recomputesMLP: Bool {
        get { blocks.contains { $0.mlp.recompute } }
        set { for block in blocks { block.mlp.recompute = newValue } }
    }

    /// Stochastic depth for training: rates linspace(0, `rate`, depth) over the blocks, as timm.
    public func setDropPathRate(_ rate: Float) {
        for (i, block) in blocks.enumerated() { block.dropPath = blocks.count > 1 ? rate * Float(i) / Float(blocks.count - 1) : 0 }
    }

    /// Replaces the classifier with a new one for `classes` outputs (PyTorch default init).
    public func resetHead(classes: Int, using rng: inout SeededRandom) {
        head = classes > 0 ? Linear(config.embedDim, classes, using: &rng) : nil
    }

    /// Patch tokens with the class token prepended and the position embedding added.
    func embed(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == config.inChans && images.shape[2] == config.imgSize && images.shape[3] == config.imgSize,
                     "VisionTransformer: input \(images.shape) does not match [B, \(config.inChans), \(config.imgSize), \(config.imgSize)]")
        var x = patchEmbed(images)
        if let clsToken { x = concat([clsToken.expanded(to: [images.shape[0], 1, config.embedDim]), x], dim: 1) }
        x = x + posEmbed
        return normPre.map { $0(x) } ?? x
    }

    public func forward(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        var context = ForwardContext(options: options, rng: rng)
        let tokens = tokenHooks.apply(embed(images), &context)
        return forward(fromBlock: 0, hidden: tokens, context: &context)
    }

    /// The forward from block `start` on, given what enters it (`hidden` [B, N, D]): a cached
    /// frozen prefix's output. `BackboneOutput.tokens` is then `hidden`.
    public func forward(fromBlock start: Int, hidden: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        precondition((0...blocks.count).contains(start), "VisionTransformer: no block \(start) to start from")
        var context = ForwardContext(options: options, rng: rng)
        return forward(fromBlock: start, hidden: hidden, context: &context)
    }

    /// The token sequence entering block `count` (the output of the first `count` blocks), in
    /// evaluation mode: what a frozen-prefix cache stores.
    public func hidden(_ images: Tensor, throughBlocks count: Int) -> Tensor {
        var context = ForwardContext(options: ForwardOptions(), rng: SeededRandom(seed: 0))
        var x = tokenHooks.apply(embed(images), &context)
        for (i, block) in blocks.prefix(count).enumerated() { x = block(x, context: &context, index: i) }
        return x
    }

    /// The embeddings and every block's output before the blocks' output hooks (L + 1 tensors
    /// [B, N, D]), in evaluation mode, token hooks not run: what a side network (LST, LAST)
    /// reads from a frozen backbone, computed once per image by the frozen-prefix cache.
    public func sideInputs(_ images: Tensor) -> [Tensor] {
        var context = ForwardContext(options: ForwardOptions(), rng: SeededRandom(seed: 0))
        var outputs = [embed(images)]
        for (i, block) in blocks.enumerated() { outputs.append(block.outputBeforeHooks(outputs[i], context: &context, index: i)) }
        return outputs
    }

    /// The forward from `sideInputs`, for a backbone whose token and block-output hooks only
    /// read what passes (the last block's may change it, as LAST's correction does): every hook
    /// sees what it would see in `forward`, and the blocks themselves do not run again.
    public func forward(replaying outputs: [Tensor], options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        precondition(outputs.count == blocks.count + 1, "VisionTransformer: \(outputs.count) side inputs for \(blocks.count) blocks (need embeddings + one per block)")
        var context = ForwardContext(options: options, rng: rng)
        var x = tokenHooks.apply(outputs[0], &context)
        for (i, block) in blocks.enumerated() { x = block.hooks.output.apply(outputs[i + 1], &context) }
        return forward(fromBlock: blocks.count, hidden: x, context: &context)
    }

    private func forward(fromBlock start: Int, hidden tokens: Tensor, context: inout ForwardContext) -> BackboneOutput {
        let options = context.options
        var x = tokens
        for (i, block) in blocks.enumerated().dropFirst(start) {
            x = block(x, context: &context, index: i)
            if options.keepBlockOutputs { context.blockOutputs.append(x) }
        }
        let final = finalHooks.apply(norm.map { $0(x) } ?? x, &context)
        let features = featureHooks.apply(pool(final), &context)
        return BackboneOutput(logits: head.map { $0(features) }, features: features, tokens: tokens,
                                       blockOutputs: context.blockOutputs, final: final, attention: context.attention)
    }

    /// timm's `forward_head(pre_logits=True)`: pooling then fc_norm.
    func pool(_ x: Tensor) -> Tensor {
        let pooled: Tensor
        switch config.globalPool {
        case "avg": pooled = x.narrowed(1, start: config.prefixTokens, length: x.shape[1] - config.prefixTokens).mean(dims: [1])
        case "token": pooled = x.narrowed(1, start: 0, length: 1).reshaped([x.shape[0], x.shape[2]])
        default: pooled = x
        }
        return fcNorm.map { $0(pooled) } ?? pooled
    }

    /// Logits when the model has a head, else the pooled features.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let out = forward(images, options: ForwardOptions(), rng: SeededRandom(seed: 0))
        return out.logits ?? out.features
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list: [(name: String, tensor: Tensor)] = []
        if let clsToken { list.append(("cls_token", clsToken)) }
        list.append(("pos_embed", posEmbed))
        list += prefixed("patch_embed", patchEmbed) + prefixed("norm_pre", normPre)
        for (i, block) in blocks.enumerated() { list += prefixed("blocks.\(i)", block) }
        list += prefixed("norm", norm) + prefixed("fc_norm", fcNorm) + prefixed("head", head)
        return list
    }
}

/// A linear layer with timm's ViT init: weight trunc-normal(0.02), bias zero (Swin's too).
func vitLinear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool, using rng: inout WeightInit) -> Linear {
    Linear(weight: rng.truncatedNormal([outFeatures, inFeatures], std: 0.02), bias: bias ? Tensor.zeros([outFeatures]) : nil)
}

/// Random initial weights, or zeros when only shapes matter.
struct WeightInit {
    let random: Bool
    var rng: SeededRandom

    /// Normal(0, std) truncated at ±2·std.
    mutating func truncatedNormal(_ shape: [Int], std: Float) -> Tensor {
        random ? Tensor.truncatedNormal(shape, std: std, a: -2 * std, b: 2 * std, using: &rng) : Tensor.zeros(shape)
    }
}
