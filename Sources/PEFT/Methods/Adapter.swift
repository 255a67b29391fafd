import Models
import NN
import Tensor

/// Adapter — Houlsby et al., ICML 2019, as V-PETL benchmarks it: a bottleneck applied
/// sequentially to the MLP output inside the residual,
///     z = mlp(norm2 x);  z ← z + up(GELU(down(z)));  x ← x + DropPath(z).
/// Sites: branch(l, .mlp) (and branch(l, .attn) with `houlsby`). Init: down PyTorch default,
/// up zero (identity at start). Params: L·(2·d·dim + dim + d); ViT-B/16, dim 8: 156,768.
public struct Adapter: PEFTMethod {
    public static let name = "adapter"
    public static let summary = "Adapter (Houlsby et al. 2019): sequential bottleneck after the MLP"
    public static let sites = "branch(l, mlp) [+ branch(l, attn) with houlsby]"
    public static let mergeable = false
    /// Bottleneck width.
    public var dim = 8
    /// Also place an adapter after the attention sub-layer (Houlsby's original placement).
    public var houlsby = false
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name)
        let d = vit.config.embedDim
        for (l, block) in vit.blocks.enumerated() {
            func adapter(_ site: String) -> SequentialAdapter {
                SequentialAdapter(Bottleneck(model, prefix: "blocks.\(l).adapter_\(site)", dim: d, hidden: dim, activation: .gelu, dropout: 0,
                                             down: Initialiser.pytorchLinear(d, dim, using: &rng),
                                             up: (Tensor.zeros([d, dim]), Tensor.zeros([d]))))
            }
            if houlsby { block.hooks.attnBranch.append(adapter("attn")) }
            block.hooks.mlpBranch.append(adapter("mlp"))
        }
    }
}

/// z ← z + bottleneck(z) on a sub-layer's output.
final class SequentialAdapter: BranchHook {
    let bottleneck: Bottleneck
    init(_ bottleneck: Bottleneck) { self.bottleneck = bottleneck }

    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor {
        output + bottleneck(output)
    }
}
