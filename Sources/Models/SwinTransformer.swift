import Foundation
import NN
import Tensor

/// Swin Transformer V1 (Liu et al., "Swin Transformer: Hierarchical Vision Transformer using
/// Shifted Windows", ICCV 2021), laid out as timm's `swin_transformer.py` (timm ≥ 0.9): the same
/// modules, parameter names and forward, so a timm `state_dict` loads 1:1 and outputs match
/// timm's; the original Microsoft checkpoints load through SwinTransformerLoading.swift.
///
///     image ─▶ patch_embed (conv p×p/p ─▶ channels-last ─▶ LayerNorm)
///           ─▶ layers.0 … layers.{S−1}: [downsample (PatchMerging), i > 0] ─▶ blocks
///           ─▶ norm ─▶ mean over H, W ─▶ head.fc
///
/// Feature maps stay channels-last [B, H, W, C] throughout, as in timm. Each block is
///     x = x + DropPath(attn(norm1 x));  x = x + DropPath(mlp(norm2 x))
/// where attn is self-attention inside w×w windows with a learned relative position bias; odd
/// blocks roll the map by −w/2 first (and back after), so windows straddle the previous
/// block's borders, with a mask keeping tokens from attending across the seams of the roll.
///
/// PEFT sites: every `Linear`, `LayerNorm` and the patch `Conv2d` take `LayerHook`s (timm names
/// in `namedParameters`); every block is a `TransformerBlockSite` running the hooks of
/// `BlockHooks` over its tokens [B, H·W, C] (no class token), attention hooks per window.

/// Image → channels-last patch map: a patch-size convolution then LayerNorm (timm's `PatchEmbed`
/// with `norm_layer` and `output_fmt='NHWC'`).
public final class SwinPatchEmbed: Module {
    public let proj: Conv2d
    public let norm: LayerNorm

    init(_ c: SwinTransformerConfig, using rng: inout WeightInit) {
        let fanIn = c.inChans * c.patchSize * c.patchSize
        proj = Conv2d(weight: rng.truncatedNormal([c.embedDim, c.inChans, c.patchSize, c.patchSize], std: 1 / Float(fanIn).squareRoot()),
                      bias: Tensor.zeros([c.embedDim]), stride: (c.patchSize, c.patchSize))
        norm = LayerNorm(c.embedDim, eps: c.normEps)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        norm(proj(x).permuted([0, 2, 3, 1]))                     // [B, h, w, C]
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("proj", proj) + prefixed("norm", norm) }
}

/// Multi-head self-attention within windows of w×w tokens, with a relative position bias: a
/// table of (2w−1)² entries per head, one per relative offset (Δrow, Δcol), gathered into a
/// [heads, N, N] bias for the N = w² tokens of a window.
public final class WindowAttention: Module {
    public let qkv: Linear
    public let proj: Linear
    /// [(2w−1)², heads]; trained (its gradient arrives through the gather).
    public var relativePositionBiasTable: Tensor
    public let numHeads: Int
    public let window: Int
    public let scale: Float
    /// Row `i·N + j`: the table entry of query token i and key token j.
    let relativePositionIndex: [Int]

    init(dim: Int, heads: Int, window: Int, qkvBias: Bool, using rng: inout WeightInit) {
        qkv = vitLinear(dim, 3 * dim, bias: qkvBias, using: &rng)
        proj = vitLinear(dim, dim, bias: true, using: &rng)
        relativePositionBiasTable = rng.truncatedNormal([(2 * window - 1) * (2 * window - 1), heads], std: 0.02)
        numHeads = heads
        self.window = window
        scale = 1 / Float(dim / heads).squareRoot()
        relativePositionIndex = Self.relativePositionIndex(window: window)
    }

    /// timm's `get_relative_position_index`: tokens (r, c) row-major in the window; the pair
    /// (i, j) reads entry (rᵢ − rⱼ + w − 1)·(2w − 1) + (cᵢ − cⱼ + w − 1).
    public static func relativePositionIndex(window w: Int) -> [Int] {
        let n = w * w
        var index = [Int](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                index[i * n + j] = (i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1)
            }
        }
        return index
    }

    /// The bias [heads, N, N] added to every window's attention logits.
    func relativePositionBias() -> Tensor {
        let n = window * window
        return relativePositionBiasTable.indexSelect(relativePositionIndex, dim: 0).reshaped([n, n, numHeads]).permuted([2, 0, 1])
    }

    /// `x` [windows, N, C] → [windows, N, C]; `mask` [nW, N, N] for shifted windows. Attention
    /// hooks see each window as one sequence: q, k, v [windows, heads, N, Dh], `normed` = `x`.
    func callAsFunction(_ x: Tensor, mask: Tensor?, hooks: [AttentionHook], context: inout ForwardContext) -> Tensor {
        guard !hooks.isEmpty else {
            return proj(windowAttention(qkv(x), heads: numHeads, scale: scale, bias: relativePositionBias(), mask: mask))
        }
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        let heads = qkv(x).reshaped([b, n, 3, numHeads, d / numHeads]).permuted([2, 0, 3, 1, 4])
        func part(_ i: Int) -> Tensor { heads.narrowed(0, start: i, length: 1).reshaped([b, numHeads, n, d / numHeads]) }
        var inputs = AttentionInputs(q: part(0), k: part(1), v: part(2))
        for hook in hooks { hook.modify(&inputs, normed: x, context: &context) }
        return proj(windowAttentionWithExtras(inputs, scale: scale, bias: relativePositionBias(), mask: mask).transposed(1, 2).reshaped([b, n, d]))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("relative_position_bias_table", relativePositionBiasTable)] + prefixed("qkv", qkv) + prefixed("proj", proj)
    }
}

/// softmax([scale·Q·Kᵀ + bias + mask, scale·Q·Kₓᵀ])·[V; Vₓ] composed from differentiable ops, for
/// window attention with hooks (2-D and 3-D windows alike): the window's own keys get the
/// relative position bias [heads, N, N] and the shift mask [nW, N, N], the extra keys (shared by
/// every window) neither. [windows, heads, N, Dh].
func windowAttentionWithExtras(_ inputs: AttentionInputs, scale: Float, bias: Tensor, mask: Tensor?) -> Tensor {
    let (b, h, n) = (inputs.q.shape[0], inputs.q.shape[1], inputs.q.shape[2])
    let q = inputs.q * scale
    var logits = matmul(q, inputs.k, transposeB: true) + bias                                       // [B', H, N, N]
    if let mask {
        let nW = mask.shape[0]
        logits = (logits.reshaped([b / nW, nW, h, n, n]) + mask.reshaped([1, nW, 1, n, n])).reshaped([b, h, n, n])
    }
    var values = inputs.v
    if let extraKeys = inputs.extraKeys, let extraValues = inputs.extraValues {
        let shared = [b] + extraKeys.shape
        logits = concat([logits, matmul(q, extraKeys.expanded(to: shared), transposeB: true)], dim: 3)
        values = concat([values, extraValues.expanded(to: shared)], dim: 2)
    }
    return matmul(logits.softmax(dim: -1), values)
}

/// A Swin block on a channels-last map — of side `resolution` for classification; of any height
/// and width with `SwinWindowing.dense`, where each map size gets its own shift mask (cached):
///     x = x + DropPath(attn(norm1 x));  x = x + DropPath(mlp(norm2 x))
/// attn: roll by −shift → zero-pad to a multiple of the window (timm pads after the roll) →
/// windows → attention (+ mask when shifted) → merge → crop → roll by +shift.
/// As a PEFT site the block runs its hooks over the map's tokens [B, H·W, C] in row-major order
/// (LayerNorm, the MLP and the residual adds are token-wise, so this is the same forward):
/// input hooks, the attention residual with its branch hooks, the MLP residual with its branch
/// hooks, output hooks. Attention hooks act per window, as in V-PETL's Video Swin code: each
/// (shifted, padded) window is one sequence of w² tokens; extra keys/values (prefixes) are shared
/// by every window and take neither the position bias nor the shift mask.
public final class SwinTransformerBlock: Module {
    public let norm1: LayerNorm
    public let attn: WindowAttention
    public let norm2: LayerNorm
    public let mlp: Mlp
    public let resolution: Int
    public let shift: Int
    /// Zero-pad to whole windows before the cyclic shift (`SwinWindowing.dense`), not after.
    public let padsBeforeRoll: Bool
    /// Stochastic-depth rate of this block (training only).
    public var dropPath: Float = 0
    public var hooks = BlockHooks()
    /// The timm path (`layers.2.blocks.5`).
    public let path: String
    /// [nW, N, N]: 0 between tokens of the same region of the rolled map, −100 across regions;
    /// nil for unshifted blocks. For the configured square size; another size (dense windowing)
    /// builds its own, and the last one is kept (`otherSizeMask`): evaluation at kept aspect
    /// ratios meets many sizes, and a mask per size ever seen would grow without bound.
    let attnMask: Tensor?
    private var otherSizeMask: (height: Int, width: Int, mask: Tensor)?
    /// The grid of the map this block last ran (its configured square until then).
    private var lastGrid: (height: Int, width: Int)?

    init(path: String, dim: Int, heads: Int, resolution: Int, window: Int, shift: Int, padsBeforeRoll: Bool, mlpHidden: Int, qkvBias: Bool, eps: Float,
         using rng: inout WeightInit) {
        self.path = path
        self.padsBeforeRoll = padsBeforeRoll
        norm1 = LayerNorm(dim, eps: eps)
        attn = WindowAttention(dim: dim, heads: heads, window: window, qkvBias: qkvBias, using: &rng)
        norm2 = LayerNorm(dim, eps: eps)
        mlp = Mlp(dim, hidden: mlpHidden, act: .gelu, using: &rng)
        self.resolution = resolution
        self.shift = shift
        attnMask = shift > 0 ? Self.attentionMask(height: resolution, width: resolution, window: window, shift: shift) : nil
    }

    public var window: Int { attn.window }
    /// A side after padding to whole windows.
    func padded(_ side: Int) -> Int { (side + window - 1) / window * window }

    /// timm's (and Hugging Face's) `get_attn_mask` on the padded map: rows fall into three regions,
    /// [0, P − w), [P − w, P − shift), [P − shift, P), columns likewise, and each cell is labelled
    /// 3·row region + column region; tokens of a window with different labels came from
    /// different places before the roll, and −100 keeps them from attending to each other.
    static func attentionMask(height: Int, width: Int, window w: Int, shift s: Int) -> Tensor {
        let (ph, pw) = ((height + w - 1) / w * w, (width + w - 1) / w * w)
        func region(_ x: Int, _ p: Int) -> Int { x < p - w ? 0 : (x < p - s ? 1 : 2) }
        let (rows, columns, n) = (ph / w, pw / w, w * w)
        let mask = Tensor.zeros([rows * columns, n, n])
        for window in 0..<(rows * columns) {
            let (wy, wx) = window.quotientAndRemainder(dividingBy: columns)
            let labels = (0..<n).map { t in 3 * region(wy * w + t / w, ph) + region(wx * w + t % w, pw) }
            for i in 0..<n { for j in 0..<n where labels[i] != labels[j] { mask.data[(window * n + i) * n + j] = -100 } }
        }
        return mask
    }

    /// The shift mask for an h × w map (nil for an unshifted block).
    private func mask(height: Int, width: Int) -> Tensor? {
        guard shift > 0 else { return nil }
        if height == resolution && width == resolution { return attnMask }
        if let cached = otherSizeMask, cached.height == height, cached.width == width { return cached.mask }
        let mask = withoutGradients { Self.attentionMask(height: height, width: width, window: window, shift: shift) }
        otherSizeMask = (height, width, mask)
        return mask
    }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        lastGrid = (h, w)
        var tokens = hooks.input.apply(x.reshaped([b, h * w, c]), &context)
        // norm1 reads the map and norm2 the tokens, as timm's do: their layer hooks see timm's shapes.
        let h1 = norm1(tokens.reshaped([b, h, w, c]))
        let a = windowedAttention(h1, context: &context).reshaped([b, h * w, c])
        tokens = residual(tokens, a, normed: h1.reshaped([b, h * w, c]), hooks: hooks.attnBranch, dropPath: dropPath, context: &context)
        let h2 = norm2(tokens)
        tokens = residual(tokens, mlp(h2), normed: h2, hooks: hooks.mlpBranch, dropPath: dropPath, context: &context)
        return hooks.output.apply(tokens, &context).reshaped([b, h, w, c])
    }

    /// timm's `SwinTransformerBlock._attn` on the normalised map [B, H, W, C]; with
    /// `padsBeforeRoll` the dense-prediction order (pad, roll, …, roll back, crop).
    private func windowedAttention(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let (height, width) = (x.shape[1], x.shape[2])
        let (paddedHeight, paddedWidth) = (padded(height), padded(width))
        func pad(_ t: Tensor) -> Tensor { t.padded(dim: 1, after: paddedHeight - height).padded(dim: 2, after: paddedWidth - width) }
        func crop(_ t: Tensor) -> Tensor { t.narrowed(1, start: 0, length: height).narrowed(2, start: 0, length: width) }
        func roll(_ t: Tensor, _ by: Int) -> Tensor { shift > 0 ? t.rolled([by, by], dims: [1, 2]) : t }
        let filled = padsBeforeRoll ? roll(pad(x), -shift) : pad(roll(x, -shift))
        let mixed = attn(windowPartition(filled, window: window), mask: mask(height: height, width: width), hooks: hooks.attention, context: &context)
        let merged = windowReverse(mixed, window: window, height: paddedHeight, width: paddedWidth)
        return padsBeforeRoll ? crop(roll(merged, shift)) : roll(crop(merged), shift)
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        prefixed("norm1", norm1) + prefixed("attn", attn) + prefixed("norm2", norm2) + prefixed("mlp", mlp)
    }
}

/// The Swin block as a PEFT site: its map's tokens form the map's grid (resolution × resolution,
/// or the last input's height × width under dense windowing) with no prefix token; attention
/// hooks run per (shifted) window.
extension SwinTransformerBlock: TransformerBlockSite {
    public var width: Int { norm1.weight.count }
    public var heads: Int { attn.numHeads }
    public var qkv: Linear { attn.qkv }
    public var proj: Linear { attn.proj }
    public var fc1: Linear { mlp.fc1 }
    public var fc2: Linear { mlp.fc2 }
    public var branchScales: (attn: LayerScale?, mlp: LayerScale?) { (nil, nil) }
    public var tokenGrid: TokenGrid {
        TokenGrid(prefixTokens: 0, height: lastGrid?.height ?? resolution, width: lastGrid?.width ?? resolution)
    }
}

/// Halves the map and doubles the channels: each 2×2 neighbourhood (odd sides zero-padded) is
/// concatenated to 4C, normalised and projected to 2C (no bias).
public final class PatchMerging: Module {
    public let norm: LayerNorm
    public let reduction: Linear

    init(dim: Int, eps: Float, using rng: inout WeightInit) {
        norm = LayerNorm(4 * dim, eps: eps)
        reduction = vitLinear(4 * dim, 2 * dim, bias: false, using: &rng)
    }

    /// [B, H, W, C] → [B, ⌈H/2⌉, ⌈W/2⌉, 2C], odd sides zero-padded (E3VA's highway runs it too).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let even = x.padded(dim: 1, after: x.shape[1] % 2).padded(dim: 2, after: x.shape[2] % 2)
        return reduction(norm(spaceToDepth2x2(even)))
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { prefixed("norm", norm) + prefixed("reduction", reduction) }
}

/// One stage: PatchMerging first (every stage but the first, timm's layout), then the blocks,
/// unshifted and shifted alternately.
public final class SwinTransformerStage: Module {
    public let downsample: PatchMerging?
    public let blocks: [SwinTransformerBlock]

    init(_ c: SwinTransformerConfig, stage: Int, using rng: inout WeightInit) {
        let dim = c.stageDim(stage)
        downsample = stage > 0 ? PatchMerging(dim: c.stageDim(stage - 1), eps: c.normEps, using: &rng) : nil
        blocks = (0..<c.depths[stage]).map { i in
            SwinTransformerBlock(path: "layers.\(stage).blocks.\(i)", dim: dim, heads: c.numHeads[stage], resolution: c.stageResolution(stage), window: c.effectiveWindow(stage),
                                 shift: c.shift(stage: stage, block: i), padsBeforeRoll: c.windowing == .dense,
                                 mlpHidden: c.mlpHidden(stage), qkvBias: c.qkvBias,
                                 eps: c.normEps, using: &rng)
        }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list = prefixed("downsample", downsample)
        for (i, block) in blocks.enumerated() { list += prefixed("blocks.\(i)", block) }
        return list
    }
}

public final class SwinTransformer: Backbone {
    public let config: SwinTransformerConfig
    public let patchEmbed: SwinPatchEmbed
    public let layers: [SwinTransformerStage]
    public let norm: LayerNorm
    /// The classifier (`head.fc` in timm's checkpoints).
    public var head: Linear?
    public var preprocessing: Preprocessing
    /// The site on each stage's output as dense heads read it (`stageFeatures`): a method whose
    /// features run beside the backbone (E3VA's highway) hands its own maps to the heads here.
    /// The stream into the next stage is not changed.
    public var stageOutputHooks: [any StageOutputHook] = []

    /// A model with timm's initialisation (trunc-normal 0.02 for linear weights and bias tables,
    /// zero biases, identity LayerNorms); load a checkpoint for real use. `randomInit: false`
    /// fills the weights with zeros instead (fast; for shapes and counts).
    public init(_ config: SwinTransformerConfig, seed: UInt64 = 0, randomInit: Bool = true) throws {
        try config.validate()
        self.config = config
        var rng = WeightInit(random: randomInit, rng: SeededRandom(seed: seed).derived("swin-init"))
        patchEmbed = SwinPatchEmbed(config, using: &rng)
        layers = (0..<config.stageCount).map { SwinTransformerStage(config, stage: $0, using: &rng) }
        norm = LayerNorm(config.numFeatures, eps: config.normEps)
        head = config.numClasses > 0 ? Linear(config.numFeatures, config.numClasses, using: &rng.rng) : nil
        preprocessing = config.defaultPreprocessing
        setDropPathRate(config.dropPathRate)
    }

    /// Every stage's output: channels, stride and module (timm's `feature_info`).
    public var featureInfo: [StageFeatureInfo] {
        (0..<config.stageCount).map { StageFeatureInfo(channels: config.stageDim($0), reduction: config.patchSize << $0, module: "layers.\($0)") }
    }

    public var blocks: [SwinTransformerBlock] { layers.flatMap(\.blocks) }

    /// Stochastic depth for training: rates linspace(0, `rate`, total depth) over all blocks in
    /// order, as timm's `calculate_drop_path_rates(stagewise=True)`.
    public func setDropPathRate(_ rate: Float) {
        let all = blocks
        for (i, block) in all.enumerated() { block.dropPath = all.count > 1 ? rate * Float(i) / Float(all.count - 1) : 0 }
    }

    /// Replaces the classifier with a new one for `classes` outputs (PyTorch default init).
    public func resetHead(classes: Int, using rng: inout SeededRandom) {
        head = classes > 0 ? Linear(config.numFeatures, classes, using: &rng) : nil
    }

    /// The patch map and every stage's output [B, H, W, C] (block outputs when asked).
    private func stages(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> (tokens: Tensor, stages: [Tensor], blocks: [Tensor]) {
        let tokens: Tensor
        if config.windowing == .dense {
            // Dense prediction takes any size: zero-pad bottom and right to whole patches, as
            // Hugging Face's `SwinPatchEmbeddings.maybe_pad` and mmseg's `PatchEmbed` do.
            precondition(images.rank == 4 && images.shape[1] == config.inChans, "SwinTransformer: input \(images.shape) is not [B, \(config.inChans), H, W]")
            let p = config.patchSize
            tokens = patchEmbed(images.padded(dim: 2, after: (p - images.shape[2] % p) % p).padded(dim: 3, after: (p - images.shape[3] % p) % p))
        } else {
            precondition(images.rank == 4 && images.shape[1] == config.inChans && images.shape[2] == config.imgSize && images.shape[3] == config.imgSize,
                         "SwinTransformer: input \(images.shape) does not match [B, \(config.inChans), \(config.imgSize), \(config.imgSize)]")
            tokens = patchEmbed(images)
        }
        var context = ForwardContext(options: options, rng: rng)
        var x = tokens
        var stageOutputs: [Tensor] = [], blockOutputs: [Tensor] = []
        for (index, stage) in layers.enumerated() {
            if let downsample = stage.downsample { x = downsample(x) }
            for block in stage.blocks {
                x = block(x, context: &context)
                if options.keepBlockOutputs { blockOutputs.append(x) }
            }
            stageOutputs.append(stageOutputHooks.reduce(x) { $1.stageOutput($0, stage: index, of: layers.count) })
        }
        return (tokens, stageOutputs, blockOutputs)
    }

    /// `tokens` is the patch map entering stage 0 and `final` the normalised last map (timm's
    /// `forward_features`), both [B, H, W, C]; `blockOutputs` every block's output in order.
    /// Attention maps are a ViT feature: `options.attentionBlocks` does not apply.
    public func forward(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> BackboneOutput {
        let run = stages(images, options: options, rng: rng)
        let final = norm(run.stages[run.stages.count - 1])
        let features = final.mean(dims: [1, 2])
        return BackboneOutput(logits: head.map { $0(features) }, features: features, tokens: run.tokens,
                              blockOutputs: run.blocks, final: final, attention: [:])
    }

    /// Every stage's output as NCHW [B, C, H/stride, W/stride] (no final norm), for dense heads:
    /// timm's `forward_intermediates(norm=False)`. `featureInfo` describes them.
    public func stageFeatures(_ images: Tensor, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0)) -> [Tensor] {
        stages(images, options: options, rng: rng).stages.map { $0.permuted([0, 3, 1, 2]) }
    }

    /// Every stage's output as computed, [B, H/stride, W/stride, C].
    public func channelsLastStageFeatures(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> [Tensor] {
        stages(images, options: options, rng: rng).stages
    }

    /// Logits when the model has a head, else the pooled features.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let out = forward(images, options: ForwardOptions(), rng: SeededRandom(seed: 0))
        return out.logits ?? out.features
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        var list = prefixed("patch_embed", patchEmbed)
        for (i, stage) in layers.enumerated() { list += prefixed("layers.\(i)", stage) }
        return list + prefixed("norm", norm) + prefixed("head.fc", head)
    }
}

/// What PEFT, training and adapter files ask of a backbone, for Swin.
extension SwinTransformer {
    public var numFeatures: Int { config.numFeatures }
    public var inputSize: Int { config.imgSize }

    public var architecture: String {
        let matching = SwinTransformerConfig.presetNames.first { name in
            var preset = try? SwinTransformerConfig.preset(name)
            preset?.numClasses = config.numClasses
            preset?.dropPathRate = config.dropPathRate
            return preset == config
        }
        return matching ?? "swin (img \(config.imgSize), patch \(config.patchSize), dim \(config.embedDim), depths \(config.depths), "
            + "heads \(config.numHeads), window \(config.windowSize))"
    }

    /// The configuration without head size and stochastic depth. The image size stays: it fixes
    /// each stage's windows, shifts and masks.
    public var architectureIdentity: String {
        var c = config
        c.numClasses = 0
        c.dropPathRate = 0
        return canonicalIdentity(c)
    }

    /// Removes every PEFT hook from every layer: the plain backbone again.
    public func removeAllHooks() {
        removeSiteHooks()
        stageOutputHooks = []
    }

    public var transformerBlocks: [any TransformerBlockSite] { blocks }

    /// patch_embed.proj, patch_embed.norm, each stage's patch merging, the final norm.
    public var tokenLayers: [(name: String, layer: TokenLayer)] {
        var list: [(name: String, layer: TokenLayer)] = [("patch_embed.proj", .conv(patchEmbed.proj)), ("patch_embed.norm", .norm(patchEmbed.norm))]
        for (i, stage) in layers.enumerated() {
            guard let merge = stage.downsample else { continue }
            list += [("layers.\(i).downsample.norm", .norm(merge.norm)), ("layers.\(i).downsample.reduction", .linear(merge.reduction))]
        }
        return list + [("norm", .norm(norm))]
    }

    public var outputNorm: (name: String, layer: LayerNorm)? { ("norm", norm) }
}

/// A hook on a hierarchical backbone's stage output [B, H, W, C] (see `SwinTransformer.stageOutputHooks`).
public protocol StageOutputHook: AnyObject {
    /// The map dense heads read for stage `stage` (of `stages`), given the backbone's own.
    func stageOutput(_ x: Tensor, stage: Int, of stages: Int) -> Tensor
}
