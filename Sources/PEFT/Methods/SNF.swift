import Models
import NN
import Tensor

/// SNF — Wang et al., 2023 (shortcut normalizing flows). Both residual shortcuts of every block
/// become a learned invertible map of the stream:
///     F(z) = PF_L ∘ … ∘ PF_1(μ + e^{log σ} ⊙ z),   PF(z) = z + s ⊙ tanh(w·z + b)  (per token)
///     x₁ = F_attn(x) + DropPath(attn(norm1 x)),   x₂ = F_mlp(x₁) + DropPath(mlp(norm2 x₁)).
/// Sites: branch(l, attn/mlp) bypass (F(x) − x beside the branch). Backbones: transformer blocks
/// (ViT, Swin; d = each block's width).
/// Init: μ = 0, log σ = 0, w, s, b ~ U(±0.01) (nearly the identity). Params per shortcut
/// 2d + L·(2d + 1): 24·(1,536 + 1,537·L) on ViT-B/16; L = 16 (the code's default) → 627,072
/// (the paper's 0.25M matches no L exactly). Not mergeable (tanh).
public struct SNF: PEFTMethod {
    public static let name = "snf"
    public static let summary = "SNF (Wang et al. 2023): planar normalizing flows on both residual shortcuts"
    public static let sites = "branch(l, attn/mlp) bypass"
    public static let mergeable = false
    /// Planar flows per shortcut (L).
    public var flows = 16
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(flows >= 0, Self.name, "flows", flows, "must be ≥ 0")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width
            func flow(_ site: String) -> ShortcutFlow {
                let prefix = block.name("snf_\(site)")
                let mu = model.register("\(prefix).mu", Tensor.zeros([d]))
                let logSigma = model.register("\(prefix).log_sigma", Tensor.zeros([d]))
                let layers = (0..<flows).map { k in
                    (w: model.register("\(prefix).flow.\(k).w", Tensor.uniform([d], low: -0.01, high: 0.01, using: &rng)),
                     s: model.register("\(prefix).flow.\(k).s", Tensor.uniform([d], low: -0.01, high: 0.01, using: &rng)),
                     b: model.register("\(prefix).flow.\(k).b", Tensor.uniform([1], low: -0.01, high: 0.01, using: &rng)))
                }
                return ShortcutFlow(mu: mu, logSigma: logSigma, layers: layers)
            }
            block.hooks.attnBranch.append(flow("attn"))
            block.hooks.mlpBranch.append(flow("mlp"))
        }
    }
}

/// Replaces the shortcut x by F(x): adds F(x) − x beside the branch.
final class ShortcutFlow: BranchHook {
    let mu: Tensor, logSigma: Tensor
    let layers: [(w: Tensor, s: Tensor, b: Tensor)]

    init(mu: Tensor, logSigma: Tensor, layers: [(w: Tensor, s: Tensor, b: Tensor)]) {
        (self.mu, self.logSigma, self.layers) = (mu, logSigma, layers)
    }

    func bypass(stream: Tensor, normed: Tensor, context: inout ForwardContext) -> Tensor? {
        var z = mu + logSigma.exp() * stream
        for (w, s, b) in layers {
            let activation = ((z * w).sum(dims: [-1], keepDims: true) + b).tanh()    // [B, N, 1]
            z = z + s * activation
        }
        return z - stream
    }
}
