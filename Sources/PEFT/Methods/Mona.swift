import Models
import NN
import Tensor

/// Mona — Yin et al., 2024 (multi-cognitive visual adapter), as the official `MonaOp`, after the
/// attention residual and after the MLP residual of every block:
///     x̂ = LN(x)·γ + x·γₓ;  p = down(x̂) on the patch grid;  p ← p + (DW3 p + DW5 p + DW7 p)/3;
///     p ← p + Conv1×1(p);  out = x + up(Dropout(GELU(p)))
/// The paper targets Swin; on a ViT the class token runs through the convolutions as a 1×1 image
/// (only the kernels' centre taps act), as Convpass does. Init: LN 1/0 (eps 1e-5), γ = 1e-6,
/// γₓ = 1, convolutions and linears PyTorch's defaults (so not the identity at start).
/// Sites: branch(l, attn/mlp) after the residual. Backbones: transformer blocks (ViT; Swin — Mona's own
/// setting — where the convs run over each stage's H×W token grid; d = each block's width). Params per module
/// 4d + (d·m + m) + (9+25+49)·m + 3m + m² + m + (m·d + d); ViT-B/16, m 64: 24 × 111,872 = 2,684,928.
public struct Mona: PEFTMethod {
    public static let name = "mona"
    public static let summary = "Mona (Yin et al. 2024): multi-scale depthwise-conv adapters after each residual"
    public static let sites = "branch(l, attn/mlp) after the residual"
    public static let mergeable = false
    public var dim = 64
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
        try MethodOptionError.require((0..<1).contains(dropout), Self.name, "dropout", dropout, "must be in [0, 1)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let (d, m) = (block.width, dim)
            func module(_ site: String) -> MultiScaleAdapter {
                let prefix = block.name("mona_\(site)")
                let norm = model.registerLayerNorm("\(prefix).norm", d, eps: 1e-5)
                func linear(_ name: String, _ n: Int, _ out: Int) -> Linear {
                    let (w, b) = Initialiser.pytorchLinear(n, out, using: &rng)
                    return model.registerLinear("\(prefix).\(name)", weight: w, bias: b)
                }
                func conv(_ name: String, _ shape: [Int], fanIn: Int, groups: Int) -> Conv2d {
                    Conv2d(weight: model.register("\(prefix).\(name).weight", Initialiser.kaimingUniform(shape, fanIn: fanIn, using: &rng)),
                           bias: model.register("\(prefix).\(name).bias", Initialiser.kaimingUniform([shape[0]], fanIn: fanIn, using: &rng)),
                           padding: .symmetric(shape[2] / 2, shape[3] / 2), groups: groups)
                }
                return MultiScaleAdapter(
                    norm: norm, gamma: model.register("\(prefix).gamma", Tensor.full([d], 1e-6)), gammaX: model.register("\(prefix).gamma_x", Tensor.ones([d])),
                    down: linear("down", d, m),
                    depthwise: [3, 5, 7].map { k in conv("conv\(k)", [m, 1, k, k], fanIn: k * k, groups: m) },
                    projector: conv("projector", [m, m, 1, 1], fanIn: m, groups: 1),
                    up: linear("up", m, d), block: block, dropout: model.dropout, rate: dropout)
            }
            block.hooks.attnBranch.append(module("attn"))
            block.hooks.mlpBranch.append(module("mlp"))
        }
    }
}

/// Mona's module on the stream after a residual add.
final class MultiScaleAdapter: BranchHook {
    let norm: LayerNorm, gamma: Tensor, gammaX: Tensor, down: Linear, depthwise: [Conv2d], projector: Conv2d, up: Linear
    /// The block it sits in, for the token grid of the map it is running (unowned: the block owns the hook).
    unowned let block: any TransformerBlockSite
    let dropout: DropoutSource, rate: Float

    init(norm: LayerNorm, gamma: Tensor, gammaX: Tensor, down: Linear, depthwise: [Conv2d], projector: Conv2d, up: Linear,
         block: any TransformerBlockSite, dropout: DropoutSource, rate: Float) {
        (self.norm, self.gamma, self.gammaX, self.down, self.depthwise, self.projector, self.up) = (norm, gamma, gammaX, down, depthwise, projector, up)
        (self.block, self.dropout, self.rate) = (block, dropout, rate)
    }

    /// MonaOp on [B', m, h, w]: multi-scale depthwise mixing, then a 1×1 projection, both residual.
    private func op(_ p: Tensor) -> Tensor {
        let mixed = depthwise.map { $0(p) }.dropFirst().reduce(depthwise[0](p), +) * (1 / 3) + p
        return mixed + projector(mixed)
    }

    func afterResidual(_ x: Tensor, context: inout ForwardContext) -> Tensor {
        let p = down(norm(x) * gamma + x * gammaX)                                  // [B, N, m]
        return x + up(dropout(block.tokenGrid.convolvingTokens(p, method: "Mona") { op($0) }.gelu(), rate))
    }
}
