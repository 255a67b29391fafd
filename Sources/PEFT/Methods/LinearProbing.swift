import Models
import Tensor

/// Linear probing — only the new classification head trains on frozen features.
/// Backbones: any. Sites: head (ViT `head`, EfficientNet `_fc`). Params (without head): 0;
/// with the head numFeatures·classes + classes (Lite0, 10 classes: 12,810). The final feature
/// is cacheable.
public struct LinearProbing: PEFTMethod {
    public static let name = "linear"
    public static let summary = "Linear probing: only the classifier head trains"
    public static let sites = "head"
    public static let mergeable = true
    public static let cacheable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {}
    public func merge(into model: PEFTModel) throws {}
}
