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
    /// As VPT: the frozen encoder runs in evaluation mode (no drop-path), so the feature the
    /// head reads depends only on the image and is computed once per image while training.
    public static let frozenBlocksInEvalMode = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {}
    public func merge(into model: PEFTModel) throws {}
}
