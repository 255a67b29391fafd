import Models
import Tensor

/// Full fine-tuning — every backbone tensor trains (the reference point of the benchmark).
/// Backbones: any. Sites: all. Params: the whole backbone; ViT-B/16 without head: 85,798,656;
/// EfficientNet-Lite0 without head: 3,371,008 (BatchNorm running statistics are buffers, not
/// parameters: BN stays in inference form, so they do not train).
/// The trained model is a plain backbone (no merge needed).
public struct FullFineTuning: PEFTMethod {
    public static let name = "full"
    public static let summary = "Full fine-tuning: every backbone tensor trains"
    public static let sites = "all parameters"
    public static let mergeable = true
    public init() {}

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        model.unfreeze { _ in true }
    }

    public func merge(into model: PEFTModel) throws {}
}
