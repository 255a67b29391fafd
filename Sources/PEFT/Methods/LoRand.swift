import Models
import NN
import Tensor

/// LoRand — Yin et al., CVPR 2023 (low-rank adapters for dense prediction), in ViT form:
/// sequential adapters after the attention and the MLP sub-layers, inside the residual,
///     z ← z + U(GELU(D z)),   D: d → d/2,   U: d/2 → d,
/// where each weight is a sum of α products of small factors, W = Σ_i P_i K_i Q_i
/// (P [in, k], K [k, k], Q [k, out], kaiming-uniform as PyTorch's default), plus a zero bias.
/// Placement choice: like Adapter, on each sub-layer's output before DropPath (the paper targets
/// Swin; this is the ViT wiring). Not the identity at init (U starts random), not mergeable.
/// Sites: branch(l, attn/mlp). Backbones: transformer blocks (ViT, Swin; d = each block's width). Params per adapter α·(k(in + out) + k²)·2 + d/2 + d;
/// ViT-B/16, α 4, k 8: 24 × 75,392 = 1,809,408.
public struct LoRand: PEFTMethod {
    public static let name = "lorand"
    public static let summary = "LoRand (Yin et al. 2023): sequential adapters with multi-branch low-rank weights"
    public static let sites = "branch(l, attn/mlp)"
    public static let mergeable = false
    /// α: products summed per weight.
    public var branches = 4
    /// k: the inner size of each product.
    public var kernel = 8
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try FactorisedLinear.validate(branches: branches, kernel: kernel, method: Self.name)
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width
            for site in ["attn", "mlp"] {
                let prefix = block.name("lorand_\(site)")
                let down = FactorisedLinear.register("\(prefix).down", in: model, d, d / 2, branches: branches, kernel: kernel, using: &rng)
                let up = FactorisedLinear.register("\(prefix).up", in: model, d / 2, d, branches: branches, kernel: kernel, using: &rng)
                let adapter = MultiBranchAdapter(FactorisedBottleneck(down: down, up: up))
                if site == "attn" { block.hooks.attnBranch.append(adapter) } else { block.hooks.mlpBranch.append(adapter) }
            }
        }
    }
}

/// z + up(GELU(down z)) on a sub-layer's output.
final class MultiBranchAdapter: BranchHook {
    let body: FactorisedBottleneck
    init(_ body: FactorisedBottleneck) { self.body = body }

    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor {
        output + body(output)
    }
}
