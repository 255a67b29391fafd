import Models
import Tensor

/// Partial-k (VPT's baseline) — the last k blocks and the final LayerNorm train.
/// Backbones: ViT only (a CNN is refused by name: "partial is defined for ViT backbones; this backbone is …").
/// Sites: blocks L−k…L−1, final norm. Params: k·(block) + 2d; ViT-B/16, k = 1: 7,089,408.
/// The first L−k blocks' outputs are cacheable.
public struct PartialFineTuning: PEFTMethod {
    public static let name = "partial"
    public static let summary = "Partial-k: the last k blocks and the final norm train"
    public static let sites = "blocks L-k…L-1, final norm"
    public static let mergeable = true
    public static let cacheable = true
    /// VPT trains partial-k with the frozen blocks in evaluation mode.
    public static let frozenBlocksInEvalMode = true
    public var k = 1
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        guard let config = (backbone as? VisionTransformer)?.config else { return }
        try MethodOptionError.require((1...config.depth).contains(k), Self.name, "k", k, "must be in 1…\(config.depth) (the model's depth)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let vit = try model.vit(for: Self.name)
        let depth = vit.blocks.count
        let finalNorm = vit.finalNorm.name + "."
        model.unfreeze { name in
            if name.hasPrefix(finalNorm) { return true }
            guard name.hasPrefix("blocks."), let l = Int(name.split(separator: ".")[1]) else { return false }
            return l >= depth - k
        }
    }

    public func merge(into model: PEFTModel) throws {}
}
