import Models
import Tensor

/// Partial-k (VPT's baseline) — the last k transformer blocks train, and on a ViT the final
/// LayerNorm too.
/// Backbones: transformer blocks (ViT, Swin); a CNN is refused by name ("partial is defined on
/// transformer blocks …").
/// Sites: blocks L−k…L−1 (in forward order over all stages), plus the final norm on a backbone
/// whose blocks share one width (a ViT, VPT's definition); on a hierarchical backbone (Swin)
/// V-PETL's Partial-1 trains the last block only (`layers.3.blocks.1`).
/// Params: k·(block) + [2d]; ViT-B/16, k = 1: 7,089,408; Swin-B, k = 1: 12,601,632.
/// The first L−k blocks' outputs are cacheable.
public struct PartialFineTuning: PEFTMethod {
    public static let name = "partial"
    public static let summary = "Partial-k: the last k blocks (and a ViT's final norm) train"
    public static let sites = "blocks L-k…L-1, final norm (ViT)"
    public static let mergeable = true
    public static let cacheable = true
    /// VPT trains partial-k with the frozen blocks in evaluation mode.
    public static let frozenBlocksInEvalMode = true
    public var k = 1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        let depth = backbone.transformerBlocks.count
        guard depth > 0 else { return }
        try MethodOptionError.require((1...depth).contains(k), Self.name, "k", k, "must be in 1…\(depth) (the model's depth)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try model.blockSites(for: Self.name)
        for block in blocks.suffix(k) { block.setTrainable(true) }
        if Set(blocks.map(\.width)).count == 1, let norm = model.backbone.outputNorm { norm.layer.setTrainable(true) }
    }

    public func merge(into model: PEFTModel) throws {}
}
