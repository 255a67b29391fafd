import NN
import Tensor

/// A backbone (or a backbone with a neck) that gives dense heads its multi-scale feature maps:
/// a Swin's stage outputs, or a plain ViT's chosen block outputs brought to several strides.
/// Segmentation heads read only this, so a new backbone serves them by adopting it.
public protocol FeaturePyramidBackbone: AnyObject {
    /// Channels, stride and source module of each map, finest first.
    var featureInfo: [StageFeatureInfo] { get }
    /// The maps, NCHW [B, C, H/stride, W/stride], finest first, as `featureInfo` describes them.
    func stageFeatures(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> [Tensor]
    /// The same maps channels-last [B, H/stride, W/stride, C], for heads that normalise over
    /// channels first: a backbone that computes them so (Swin) gives them without two transposes.
    func channelsLastStageFeatures(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> [Tensor]
    /// The one square input side the backbone reads (a plain ViT's position embedding is built
    /// for one grid), or nil when any size works (a Swin with dense windowing pads to windows).
    var fixedInputSide: Int? { get }
}

extension FeaturePyramidBackbone {
    public var fixedInputSide: Int? { nil }

    public func channelsLastStageFeatures(_ images: Tensor, options: ForwardOptions, rng: SeededRandom) -> [Tensor] {
        stageFeatures(images, options: options, rng: rng).map { $0.permuted([0, 2, 3, 1]) }
    }
}

/// What a stage's output offers a dense head (timm's `feature_info`): channels, stride to the
/// input image, and the module producing it.
public struct StageFeatureInfo: Equatable, Sendable {
    public let channels: Int
    public let reduction: Int
    public let module: String

    public init(channels: Int, reduction: Int, module: String) {
        (self.channels, self.reduction, self.module) = (channels, reduction, module)
    }
}

extension SwinTransformer: FeaturePyramidBackbone {}
