import Models
import NN
import Tensor

/// DiffFit — Xie et al., ICCV 2023. Bias and norm tuning plus a learned per-channel gate on each
/// residual branch, inside DropPath:
///     x ← x + DropPath(γ₁ ⊙ attn(norm1 x)),   x ← x + DropPath(γ₂ ⊙ mlp(norm2 x)).
/// Trains: γ₁, γ₂ ∈ R^d per block (init 1, so the model starts unchanged), every non-LayerNorm
/// bias (patch embedding, qkv, proj, fc1, fc2) and every LayerNorm weight and bias.
/// Sites: branch(l, attn/mlp), linear(all).bias, norm(all). Backbones: transformer blocks (ViT,
/// Swin: γ at each block's width; every LayerNorm, patch merging's included, and the biases of
/// the patch conv and the blocks' linears). Params: ViT-B/16 83,712 + 38,400 + 18,432 = 140,544. Mergeable: γ scales the rows and bias of
/// attn.proj / mlp.fc2 (or the LayerScale γ, where the model has LayerScale).
public struct DiffFit: PEFTMethod {
    public static let name = "difffit"
    public static let summary = "DiffFit (Xie et al. 2023): biases, norms and a gate per residual branch"
    public static let sites = "branch(l, attn/mlp), linear(all).bias, norm(all)"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try model.blockSites(for: Self.name)
        let biases = ["patch_embed.proj", "attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"]
        let norms = ["norm1", "norm2", "norm", "fc_norm", "norm_pre"]
        model.unfreeze { name in
            let parts = name.split(separator: ".")
            let module = parts.dropLast().suffix(2).joined(separator: ".")
            if name.hasSuffix(".bias") && biases.contains(where: { module.hasSuffix($0) }) { return true }
            return norms.contains(String(parts.dropLast().last ?? ""))
        }
        for block in blocks {
            block.hooks.attnBranch.append(BranchGate(model.register(block.name("difffit.gamma1"), Tensor.ones([block.width]))))
            block.hooks.mlpBranch.append(BranchGate(model.register(block.name("difffit.gamma2"), Tensor.ones([block.width]))))
        }
    }

    public func merge(into model: PEFTModel) throws {
        for block in try model.blockSites(for: Self.name) {
            let scales = block.branchScales
            for (hooks, layer, scale) in [(block.hooks.attnBranch, block.proj, scales.attn), (block.hooks.mlpBranch, block.fc2, scales.mlp)] {
                for case let gate as BranchGate in hooks {
                    if let scale {
                        scale.gamma.data.update(from: (scale.gamma * gate.gamma).data, count: scale.gamma.count)
                    } else {
                        let out = layer.outFeatures, perRow = layer.inFeatures
                        for r in 0..<out {
                            for i in 0..<perRow { layer.weight.data[r * perRow + i] *= gate.gamma.data[r] }
                            layer.bias?.data[r] *= gate.gamma.data[r]
                        }
                    }
                }
            }
        }
    }
}

/// γ ⊙ branch, before DropPath.
final class BranchGate: BranchHook {
    let gamma: Tensor
    init(_ gamma: Tensor) { self.gamma = gamma }

    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor { output * gamma }
}
