import Models
import NN
import Tensor

/// LST — Sung et al., NeurIPS 2022 (Ladder Side-Tuning), transcribed from T5 to a ViT: a narrow
/// side transformer (width w, `heads` heads, MLP 4w, GELU, LayerNorm eps 1e-6) beside the frozen
/// backbone, fed through "ladders" from the embeddings h₀ and every block output h_{l+1}:
///     s ← Down₀(h₀);  for each block l:  s ← g_l·s + (1 − g_l)·Down_{l+1}(h_{l+1});  s ← Side_l(s)
/// with gates g_l = σ(α_l / T) (α_l init 0, T = 0.1), then the feature Up(LN(s)) of the class
/// token (the mean of the patch tokens on avg-pool backbones) feeds the head. The backbone's
/// own final norm is unused.
/// Init: side blocks as timm's ViT (trunc-normal 0.02, zero biases; LST initialises them by
/// structured pruning of the backbone, which this implementation replaces: docs/methods.md,
/// "LST"), Down/Up PyTorch's Linear default, gates zero.
/// The backbone is read, never written: it runs without gradients and keeps no activations for
/// backward, and its block outputs are cacheable per un-augmented image.
/// Sites: tokens, output(l), features. Backbones: ViT (its side network reads every block at one width;
/// Swin is refused by name).
/// Params: (L+1)(d·w + w) + L·(12w² + 13w + 1) + 2w + w·d + d; ViT-B/16, w 96, 12 heads:
/// 2,376,492.
public struct LST: PEFTMethod {
    public static let name = "lst"
    public static let summary = "LST (Sung et al. 2022): ladder side transformer beside the frozen backbone"
    public static let sites = "tokens, output(l), features"
    public static let mergeable = false
    public static let cacheable = true
    /// The backbone is a fixed feature extractor (no drop-path), its blocks run once per image.
    public static let frozenBlocksInEvalMode = true
    public static let readsFrozenBlockOutputs = true
    public var width = 96
    public var heads = 12
    public var gateTemperature: Float = 0.1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(width > 0, Self.name, "width", width, "must be positive")
        try MethodOptionError.require(heads > 0 && width % heads == 0, Self.name, "heads", heads, "must divide the width \(width)")
        try MethodOptionError.require(gateTemperature > 0, Self.name, "gate_temperature", gateTemperature, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name, because: "its ladder side network has one width and reads every block at the backbone's single width")
        let d = vit.config.embedDim, depth = vit.blocks.count
        func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int) -> Linear {
            let (weight, bias) = Initialiser.pytorchLinear(inFeatures, outFeatures, using: &rng)
            return model.registerLinear(name, weight: weight, bias: bias)
        }
        var sideConfig = vit.config
        (sideConfig.embedDim, sideConfig.numHeads, sideConfig.mlpRatio, sideConfig.qkvBias) = (width, heads, 4, true)
        (sideConfig.normEps, sideConfig.actLayer, sideConfig.initValues) = (1e-6, .gelu, nil)
        let side = LadderSide(gateTemperature: gateTemperature)
        side.downs = (0...depth).map { linear("lst.down.\($0)", d, width) }
        side.gates = (0..<depth).map { model.register("lst.gate.\($0)", Tensor.zeros([1])) }
        side.blocks = (0..<depth).map { l in
            let block = Block(standalone: sideConfig, path: "lst.blocks.\(l)", using: &rng)
            for (name, tensor) in block.namedParameters { model.register(block.name(name), tensor, role: name.contains("norm") ? .other : name.hasSuffix("bias") ? .linearBias : .linearWeight) }
            return block
        }
        side.norm = model.registerLayerNorm("lst.norm", width, eps: 1e-6)
        side.up = linear("lst.up", width, d)
        side.pool = vit.config.globalPool == "avg" ? .patchMean(prefixTokens: vit.config.prefixTokens) : .classToken

        vit.tokenHooks.append(LadderStart(side: side))
        for (l, block) in vit.blocks.enumerated() { block.hooks.output.append(LadderRung(side: side, index: l)) }
        vit.featureHooks.append(LadderHead(side: side))
    }
}

/// The side network and its state within one forward pass (forwards of one model run one at a
/// time, as everywhere in the project).
final class LadderSide {
    enum Pool { case classToken, patchMean(prefixTokens: Int) }
    let gateTemperature: Float
    var downs: [Linear] = [], gates: [Tensor] = [], blocks: [Block] = []
    var norm = LayerNorm(1, eps: 1e-6), up = Linear(weight: Tensor.zeros([1, 1]), bias: nil), pool = Pool.classToken
    var state: Tensor?
    init(gateTemperature: Float) { self.gateTemperature = gateTemperature }
}

/// s ← Down₀(h₀) from the embedded tokens.
final class LadderStart: TokenHook {
    let side: LadderSide
    init(side: LadderSide) { self.side = side }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        side.state = side.downs[0](x)
        return x
    }
}

/// After block l: s ← Side_l(g·s + (1 − g)·Down_{l+1}(h)); the backbone's stream passes unchanged.
final class LadderRung: TokenHook {
    let side: LadderSide, index: Int
    init(side: LadderSide, index: Int) { (self.side, self.index) = (side, index) }

    func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let gate = (side.gates[index] / side.gateTemperature).sigmoid()
        let mixed = side.state! * gate + side.downs[index + 1](x) * (gate.neg() + 1)
        side.state = side.blocks[index](mixed, context: &context)
        return x
    }
}

/// The pooled feature Up(LN(s)) in place of the backbone's; releases the pass's state.
final class LadderHead: TokenHook {
    let side: LadderSide
    init(side: LadderSide) { self.side = side }

    func callAsFunction(_ pooled: Tensor, context: inout ForwardContext) -> Tensor {
        let s = side.up(side.norm(side.state!))
        side.state = nil
        switch side.pool {
        case .classToken: return s.narrowed(1, start: 0, length: 1).reshaped([s.shape[0], s.shape[2]])
        case .patchMean(let prefix): return s.narrowed(1, start: prefix, length: s.shape[1] - prefix).mean(dims: [1])
        }
    }
}
