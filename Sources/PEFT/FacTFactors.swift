import Models
import NN
import Tensor

/// FacT's shared factors and the wiring of its updates into a block's linear layers.

func validateFacT(_ method: String, rank: Int, dropout: Float, for backbone: any Backbone) throws {
    try MethodOptionError.require(rank > 0, method, "rank", rank, "must be positive")
    try MethodOptionError.require((0..<1).contains(dropout), method, "dropout", dropout, "must be in [0, 1)")
    let blocks = backbone.transformerBlocks
    guard let first = blocks.first else { return }
    try requireOneWidth(method, blocks, of: backbone)
    try MethodOptionError.require(blocks.allSatisfy { $0.mlpHidden == 4 * $0.width }, method, "model", "MLP hidden \(first.mlpHidden), width \(first.width)",
                                  "FacT assumes an MLP ratio of 4 (fc1/fc2 split into 4 chunks)")
}

/// The blocks FacT factorises: its U and V are shared by every layer of every block, so all
/// blocks must have one width (a hierarchical backbone such as Swin is refused, naming why).
func factBlocks(_ model: PEFTModel, for method: String) throws -> [any TransformerBlockSite] {
    let blocks = try model.blockSites(for: method)
    try requireOneWidth(method, blocks, of: model.backbone)
    return blocks
}

private func requireOneWidth(_ method: String, _ blocks: [any TransformerBlockSite], of backbone: any Backbone) throws {
    let widths = Set(blocks.map(\.width))
    guard widths.count == 1 else {
        throw MethodOptionError("\(method) is defined for backbones whose blocks share one width (its factors U, V are shared by every layer); \(backbone.architecture) has block widths \(widths.sorted())")
    }
}

/// FacT's shared projections U (d → r) and V (r → d).
struct SharedFactors {
    let uWeight: Tensor, vWeight: Tensor

    init(_ model: PEFTModel, width d: Int, rank: Int, using rng: inout SeededRandom) {
        uWeight = model.register("fact.u", Initialiser.kaimingUniform([rank, d], fanIn: d, using: &rng), role: .linearWeight)
        vWeight = model.register("fact.v", Tensor.zeros([d, rank]), role: .linearWeight)
    }

    func u(_ x: Tensor) -> Tensor { linear(x, uWeight) }
    func v(_ z: Tensor) -> Tensor { linear(z, vWeight) }
}

/// Which attention matrix a core serves (0 q, 1 k, 2 v, 3 proj) and its layer input.
struct AttentionCoreInput { let index: Int; let input: Tensor }

/// Hooks FacT's update on the four linear layers of `block`. `attention(t)` gives C·U x for
/// attention matrix t (in r); `fc1` maps U x (r) to 4r; `fc2` maps the joined chunks (4r) to r.
func installFacT(_ block: any TransformerBlockSite, _ shared: SharedFactors, scale: Float, dropout: (DropoutSource, Float),
                     attention: @escaping (AttentionCoreInput) -> Tensor, fc1: @escaping (Tensor) -> Tensor, fc2: @escaping (Tensor) -> Tensor) {
    let (drop, p) = dropout
    func updated(_ t: Int, _ x: Tensor) -> Tensor { shared.v(drop(attention(AttentionCoreInput(index: t, input: x)), p)) }
    block.qkv.hooks.append(FactorisedUpdate(scale: scale) { x in concat([updated(0, x), updated(1, x), updated(2, x)], dim: -1) })
    block.proj.hooks.append(FactorisedUpdate(scale: scale) { x in updated(3, x) })
    block.fc1.hooks.append(FactorisedUpdate(scale: scale) { x in
        let lead = Array(x.shape.dropLast()), r = shared.uWeight.shape[0]
        let chunks = drop(fc1(shared.u(x)), p).reshaped(lead + [4, r])
        return shared.v(chunks).reshaped(lead + [4 * shared.vWeight.shape[0]])
    })
    block.fc2.hooks.append(FactorisedUpdate(scale: scale) { x in
        let lead = Array(x.shape.dropLast()), d = shared.vWeight.shape[0], r = shared.uWeight.shape[0]
        let joined = shared.u(x.reshaped(lead + [4, d])).reshaped(lead + [4 * r])
        return shared.v(drop(fc2(joined), p))
    })
}

/// y ← y + s·update(x).
final class FactorisedUpdate: LayerHook {
    let scale: Float, update: (Tensor) -> Tensor
    init(scale: Float, update: @escaping (Tensor) -> Tensor) { (self.scale, self.update) = (scale, update) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor { next(x) + update(x) * scale }
}
