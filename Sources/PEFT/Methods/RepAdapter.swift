import Models
import NN
import Tensor

/// RepAdapter — Luo et al., 2023. A linear (re-parameterisable) adapter on the input of qkv
/// and fc1:  x' = x + s·B(Dropout(A x)),  A: d → dim (xavier, zero bias), B: dim → d grouped
/// (G groups: output block g reads input block g; zero init).
/// Backbones: transformer blocks (ViT, Swin; d = each block's width); a CNN is refused by name.
/// Sites: linear(l, qkv) and linear(l, fc1), input side. Params per adapter:
/// d·dim + dim + d·dim/G + d; ViT-B/16, dim 8, G 2: 239,808.
/// Mergeable: W' = W(I + sBA), b' = b + W·s·(B b_A + b_B).
public struct RepAdapter: PEFTMethod {
    public static let name = "rep_adapter"
    public static let summary = "RepAdapter (Luo et al. 2023): mergeable linear adapters before qkv and fc1"
    public static let sites = "linear(l, qkv/fc1) input"
    public static let mergeable = true
    public var dim = 8
    public var groups = 2
    public var scale: Float = 1
    public var dropout: Float = 0.1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        let widths = Set(backbone.transformerBlocks.map(\.width)).sorted()
        guard !widths.isEmpty else { return }
        try MethodOptionError.require(dim > 0, Self.name, "dim", dim, "must be positive")
        try MethodOptionError.require(groups > 0 && dim % groups == 0 && widths.allSatisfy { $0 % groups == 0 }, Self.name, "groups", groups,
                                      "must divide dim \(dim) and the model width \(widths.map(String.init).joined(separator: ", "))")
        try MethodOptionError.require((0..<1).contains(dropout), Self.name, "dropout", dropout, "must be in [0, 1)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            let d = block.width
            for (layer, name) in [(block.qkv, block.name("attn.qkv")), (block.fc1, block.name("mlp.fc1"))] {
                let prefix = "\(name).rep_adapter"
                let down = Linear(weight: model.register("\(prefix).down.weight", Initialiser.xavierUniform([dim, d], fanIn: d, fanOut: dim, using: &rng), role: .linearWeight),
                                  bias: model.register("\(prefix).down.bias", Tensor.zeros([dim]), role: .linearBias))
                let up = Linear(weight: model.register("\(prefix).up.weight", Tensor.zeros([d, dim / groups]), role: .linearWeight),
                                bias: model.register("\(prefix).up.bias", Tensor.zeros([d]), role: .linearBias))
                layer.hooks.append(InputAdapter(down: down, up: up, groups: groups, scale: scale, dropout: model.dropout, rate: dropout))
            }
        }
    }

    public func merge(into model: PEFTModel) throws { try model.foldLinearHooks() }
}

/// The layer sees x + s·B(Dropout(A x)).
final class InputAdapter: LayerHook {
    let down: Linear, up: Linear, groups: Int, scale: Float, dropout: DropoutSource, rate: Float
    init(down: Linear, up: Linear, groups: Int, scale: Float, dropout: DropoutSource, rate: Float) {
        (self.down, self.up, self.groups, self.scale, self.dropout, self.rate) = (down, up, groups, scale, dropout, rate)
    }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        let h = dropout(down(x), rate)
        let outPerGroup = up.outFeatures / groups, inPerGroup = h.shape[h.rank - 1] / groups
        // Grouped up-projection (a 1×1 grouped convolution): block g of the output reads block g of h.
        let parts = (0..<groups).map { g in
            linear(h.narrowed(-1, start: g * inPerGroup, length: inPerGroup),
                   up.weight.narrowed(0, start: g * outPerGroup, length: outPerGroup),
                   up.bias!.narrowed(0, start: g * outPerGroup, length: outPerGroup))
        }
        return next(x + concat(parts, dim: -1) * scale)
    }
}
