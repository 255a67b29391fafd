import Datasets
import Heads

/// A segmentation run's settings, resolved from `TrainingConfig`: every key left unset takes
/// mmseg's value for UPerNet + Swin on ADE20K at 512×512 (`upernet_swin_*_512x512_160k_ade20k`):
/// crop 512, resize scale (2048, 512) × ratio in [0.5, 2.0], cat_max_ratio 0.75, auxiliary
/// loss weight 0.4, photometric distortion on, whole-image inference (slide: stride ⅔ of the crop, 341 at 512), single-scale test without flip,
/// UPerNet channels 512 and the auxiliary head's 256.
public struct SegmentationSettings: Equatable, Sendable {
    public var cropSize = 512
    public var ratioRange: [Double] = [0.5, 2.0]
    public var imgScale = [2048, 512]
    public var catMaxRatio = 0.75
    public var auxLossWeight = 0.4
    public var inference: SegmentationInference = .whole
    public var testScales: [Double] = [1.0]
    public var testFlip = false
    public var photometricDistortion = true
    public var decoderChannels = 512
    public var auxChannels = 256

    public init() {}

    /// Whether `config` is a segmentation run: its `task`, else its dataset's suite.
    public static func isSegmentation(_ config: TrainingConfig) -> Bool {
        if let task = config.task { return task == "segmentation" }
        return (try? DatasetReference.parse(config.dataset)).map { DatasetReference.segmentationSuites.contains($0.suite) } ?? false
    }

    public init(_ config: TrainingConfig) throws {
        try Self.validate(config)
        if let v = config.cropSize { cropSize = v }
        if let v = config.ratioRange { ratioRange = v }
        if let v = config.imgScale { imgScale = v }
        if let v = config.catMaxRatio { catMaxRatio = v }
        if let v = config.auxLossWeight { auxLossWeight = v }
        // mmseg's stride is two thirds of the crop (341 at 512), so windows always overlap.
        if config.inference == "slide" { inference = .slide(crop: cropSize, stride: config.slideStride ?? max(1, cropSize * 2 / 3)) }
        if let v = config.testScales { testScales = v }
        if let v = config.testFlip { testFlip = v }
        if let v = config.photometricDistortion { photometricDistortion = v }
        if let v = config.decoderChannels { decoderChannels = v }
        if let v = config.auxChannels { auxChannels = v }
    }

    /// Checks the segmentation keys, naming key and value.
    public static func validate(_ config: TrainingConfig) throws {
        func require(_ ok: Bool, _ key: String, _ value: Any, _ expectation: String) throws {
            if !ok { throw ConfigError("\(key) = \(value): \(expectation)") }
        }
        if let v = config.cropSize { try require(v > 0, "crop_size", v, "must be positive") }
        if let v = config.ratioRange {
            try require(v.count == 2 && v[0] > 0 && v[0] <= v[1] && v[1].isFinite, "ratio_range", v, "must be [low, high] with 0 < low ≤ high")
        }
        if let v = config.imgScale { try require(v.count == 2 && v.allSatisfy { $0 > 0 }, "img_scale", v, "must be [long, short], both positive") }
        if let v = config.catMaxRatio { try require(v > 0 && v <= 1, "cat_max_ratio", v, "must be in (0, 1] (1 = no redraws)") }
        if let v = config.auxLossWeight { try require(v >= 0 && v.isFinite, "aux_loss_weight", v, "must be ≥ 0 (0 = no auxiliary head)") }
        if let v = config.inference { try require(["whole", "slide"].contains(v), "inference", v, "must be whole or slide") }
        if let v = config.slideStride {
            try require(v > 0, "slide_stride", v, "must be positive")
            try require(v <= (config.cropSize ?? 512), "slide_stride", v, "must not exceed crop_size (\(config.cropSize ?? 512)): windows would leave pixels uncovered")
        }
        if let v = config.testScales { try require(!v.isEmpty && v.allSatisfy { $0 > 0 && $0.isFinite }, "test_scales", v, "must be a non-empty list of positive ratios") }
        if let v = config.decoderChannels { try require(v > 0, "decoder_channels", v, "must be positive") }
        if let v = config.auxChannels { try require(v > 0, "aux_channels", v, "must be positive") }
        if let v = config.numClasses { try require((1...255).contains(v), "num_classes", v, "must be in 1…255 (255 is the ignore label)") }
    }

    /// mmseg's joint training transforms with these settings.
    public var augmentation: SegmentationAugmentation {
        var a = SegmentationAugmentation()
        a.scale = imgScale
        a.ratioRange = ratioRange.map(Float.init)
        a.cropSize = cropSize
        a.catMaxRatio = Float(catMaxRatio)
        a.photometricDistortion = photometricDistortion ? PhotoMetricDistortion() : nil
        return a
    }

    /// The UPerNet head for `classes` with these settings (HF's defaults otherwise); no
    /// auxiliary head when its loss weight is 0.
    public func uperNetConfig(classes: Int) -> UperNetConfig {
        var c = UperNetConfig()
        c.numLabels = classes
        c.hiddenSize = decoderChannels
        c.auxiliaryChannels = auxChannels
        c.auxiliaryLossWeight = Float(auxLossWeight)
        c.useAuxiliaryHead = auxLossWeight > 0
        return c
    }
}
