import Models
import NN
import Tensor

/// Adapter — Houlsby et al., ICML 2019, as V-PETL benchmarks it: a bottleneck applied
/// sequentially to the MLP output inside the residual,
///     z = mlp(norm2 x);  z ← z + up(GELU(down(z)));  x ← x + DropPath(z).
/// Backbones: transformer blocks (ViT, Swin), EfficientNet-Lite (others are refused by name).
/// Block sites: branch(l, .mlp) (and branch(l, .attn) with `houlsby`), at each block's width C.
/// Init: down PyTorch default, up zero (identity at start). Params: Σ_blocks (2·C·dim + dim + C);
/// ViT-B/16, dim 8: 156,768.
/// EfficientNet-Lite: a parallel bottleneck conv adapter on every MBConv block (block site),
///     y = block(x) + up(ReLU6(down(s))),  down: 1×1 conv C_s → dim, up: 1×1 conv dim → C_out,
/// added to the block output (residual included) outside stochastic depth; s = the block
/// input x for stride-1 blocks, and the block output y for the stride-2 blocks (whose input has
/// another resolution; there the adapter is sequential). Tensors `_blocks.{i}.adapter.down.
/// {weight [dim, C_s, 1, 1], bias [dim]}`, `.up.{weight [C_out, dim, 1, 1], bias [C_out]}`.
/// Init: down PyTorch's Conv2d default (U(±1/√C_s) weight and bias), up zero (identity at start;
/// `init: vpetl` re-initialises both as linear weights). Params: Σ_blocks (C_s·dim + dim +
/// dim·C_out + C_out); Lite0, dim 8: 29,712. `houlsby` has no CNN meaning and is refused there.
public struct Adapter: PEFTMethod {
    public static let name = "adapter"
    public static let summary = "Adapter (Houlsby et al. 2019): sequential bottleneck after the MLP (CNN: parallel conv bottleneck per block)"
    public static let sites = "branch(l, mlp) [+ branch(l, attn) with houlsby] · CNN: block(i) parallel"
    public static let mergeable = false
    /// Bottleneck width.
    public var dim = 8
    /// Also place an adapter after the attention sub-layer (Houlsby's original placement).
    public var houlsby = false
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
        if backbone is EfficientNetLite {
            try MethodOptionError.require(!houlsby, Self.name, "houlsby", houlsby, "must be false on \(backbone.architecture): a CNN block has no attention sub-layer")
        }
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        switch try model.family(for: Self.name) {
        case .transformer(let blocks):
            for block in blocks {
                let d = block.width
                func adapter(_ site: String) -> SequentialAdapter {
                    SequentialAdapter(Bottleneck(model, prefix: block.name("adapter_\(site)"), dim: d, hidden: dim, activation: .gelu, dropout: 0,
                                                 down: Initialiser.pytorchLinear(d, dim, using: &rng),
                                                 up: (Tensor.zeros([d, dim]), Tensor.zeros([d]))))
                }
                if houlsby { block.hooks.attnBranch.append(adapter("attn")) }
                block.hooks.mlpBranch.append(adapter("mlp"))
            }
        case .efficientNet(let net):
            for (i, block) in net.blocks.enumerated() {
                let readsOutput = block.spec.stride != 1
                let source = readsOutput ? block.spec.outChannels : block.spec.inChannels, out = block.spec.outChannels
                let prefix = "_blocks.\(i).adapter"
                let down = Initialiser.pytorchLinear(source, dim, using: &rng)
                block.hooks.append(ConvBlockAdapter(
                    down: Conv2d(weight: model.register("\(prefix).down.weight", down.weight.reshaped([dim, source, 1, 1]), role: .linearWeight),
                                 bias: model.register("\(prefix).down.bias", down.bias, role: .linearBias)),
                    up: Conv2d(weight: model.register("\(prefix).up.weight", Tensor.zeros([out, dim, 1, 1]), role: .linearWeight),
                               bias: model.register("\(prefix).up.bias", Tensor.zeros([out]), role: .linearBias)),
                    readsOutput: readsOutput))
            }
        }
    }
}

/// y = block(x) + up(ReLU6(down(x or y))) around a whole MBConv block.
final class ConvBlockAdapter: LayerHook {
    let down: Conv2d, up: Conv2d, readsOutput: Bool
    init(down: Conv2d, up: Conv2d, readsOutput: Bool) { (self.down, self.up, self.readsOutput) = (down, up, readsOutput) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let y = next(x)
        return y + up(down(readsOutput ? y : x).relu6())
    }
}

/// z ← z + bottleneck(z) on a sub-layer's output.
final class SequentialAdapter: BranchHook {
    let bottleneck: Bottleneck
    init(_ bottleneck: Bottleneck) { self.bottleneck = bottleneck }
    var readsNormed: Bool { false }

    func branch(_ output: Tensor, normed: Tensor, stream: Tensor, context: inout ForwardContext) -> Tensor {
        output + bottleneck(output)
    }
}
