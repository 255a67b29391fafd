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
        try MethodOptionError.require(branches > 0, Self.name, "branches", branches, "must be positive")
        try MethodOptionError.require(kernel > 0, Self.name, "kernel", kernel, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width
            func lowRank(_ prefix: String, _ n: Int, _ m: Int) -> FactorisedLinear {
                func factor(_ name: String, _ shape: [Int]) -> Tensor {
                    model.register(name, Initialiser.kaimingUniform(shape, fanIn: shape[1], using: &rng))
                }
                let parts = (0..<branches).map { i in
                    (p: factor("\(prefix).P.\(i)", [n, kernel]), k: factor("\(prefix).K.\(i)", [kernel, kernel]), q: factor("\(prefix).Q.\(i)", [kernel, m]))
                }
                return FactorisedLinear(parts: parts, bias: model.register("\(prefix).bias", Tensor.zeros([m])))
            }
            for site in ["attn", "mlp"] {
                let prefix = block.name("lorand_\(site)")
                let adapter = MultiBranchAdapter(down: lowRank("\(prefix).down", d, d / 2), up: lowRank("\(prefix).up", d / 2, d))
                if site == "attn" { block.hooks.attnBranch.append(adapter) } else { block.hooks.mlpBranch.append(adapter) }
            }
        }
    }
}

/// y = x·(Σ P_i K_i Q_i) + b.
struct FactorisedLinear {
    let parts: [(p: Tensor, k: Tensor, q: Tensor)]
    let bias: Tensor

    func callAsFunction(_ x: Tensor) -> Tensor {
        let products = parts.map { matmul(matmul($0.p, $0.k), $0.q) }               // each [in, out]
        let weight = products.dropFirst().reduce(products[0], +)
        return matmul(x, weight) + bias
    }
}

/// z + up(GELU(down z)) on a sub-layer's output.
final class MultiBranchAdapter: BranchHook {
    let down: FactorisedLinear, up: FactorisedLinear
    init(down: FactorisedLinear, up: FactorisedLinear) { (self.down, self.up) = (down, up) }

    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor {
        output + up(down(output).gelu())
    }
}
