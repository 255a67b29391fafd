/// timm's RandAugment operations (`timm/data/auto_augment.py`), by timm's names, with timm's
/// level-to-argument rules. An op turns a magnitude (0–10 scale) and a sign coin into a
/// concrete `ImageAugmentation`.
public enum RandAugmentOp: String, Codable, CaseIterable, Sendable {
    case autoContrast = "AutoContrast"
    case equalize = "Equalize"
    case invert = "Invert"
    case rotate = "Rotate"
    case posterize = "Posterize"
    case posterizeIncreasing = "PosterizeIncreasing"
    case solarize = "Solarize"
    case solarizeIncreasing = "SolarizeIncreasing"
    case solarizeAdd = "SolarizeAdd"
    case color = "Color"
    case colorIncreasing = "ColorIncreasing"
    case contrast = "Contrast"
    case contrastIncreasing = "ContrastIncreasing"
    case brightness = "Brightness"
    case brightnessIncreasing = "BrightnessIncreasing"
    case sharpness = "Sharpness"
    case sharpnessIncreasing = "SharpnessIncreasing"
    case shearX = "ShearX"
    case shearY = "ShearY"
    case translateXRel = "TranslateXRel"
    case translateYRel = "TranslateYRel"

    /// timm's `_RAND_TRANSFORMS` (`inc0`).
    public static let standardSet: [RandAugmentOp] = [
        .autoContrast, .equalize, .invert, .rotate, .posterize, .solarize, .solarizeAdd, .color, .contrast,
        .brightness, .sharpness, .shearX, .shearY, .translateXRel, .translateYRel,
    ]
    /// timm's `_RAND_INCREASING_TRANSFORMS` (`inc1`): severity grows with magnitude for every op.
    public static let increasingSet: [RandAugmentOp] = [
        .autoContrast, .equalize, .invert, .rotate, .posterizeIncreasing, .solarizeIncreasing, .solarizeAdd,
        .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing, .shearX, .shearY,
        .translateXRel, .translateYRel,
    ]

    /// Whether timm's level function flips a coin for the sign (`_randomly_negate`).
    public var hasRandomSign: Bool {
        switch self {
        case .rotate, .shearX, .shearY, .translateXRel, .translateYRel,
             .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing: return true
        default: return false
        }
    }

    /// Whether the op resamples geometry (and so draws an interpolation when it is random).
    public var isGeometric: Bool {
        switch self {
        case .rotate, .shearX, .shearY, .translateXRel, .translateYRel: return true
        default: return false
        }
    }

    /// timm's `LEVEL_TO_ARG[name](magnitude)` with the sign coin given: `negate` is what
    /// `random.random() > 0.5` decided.
    public func augmentation(magnitude m: Double, negate: Bool, interpolation: Interpolation,
                             translatePercent: Double = 0.45) -> ImageAugmentation {
        let level = m.isFinite ? Swift.min(Swift.max(m, -1000), 1000) / 10 : 0   // absurd magnitudes cannot overflow an Int
        func signed(_ v: Double) -> Double { negate ? -v : v }
        func increasingFactor() -> Double { Swift.max(0.1, 1.0 + signed(level * 0.9)) }
        func factor() -> Double { level * 1.8 + 0.1 }
        switch self {
        case .autoContrast: return .autoContrast
        case .equalize: return .equalize
        case .invert: return .invert
        case .rotate: return .rotate(degrees: signed(level * 30), interpolation: interpolation)
        case .posterize: return .posterize(bits: Int(level * 4))
        case .posterizeIncreasing: return .posterize(bits: 4 - Int(level * 4))
        case .solarize: return .solarize(threshold: Swift.min(256, Int(level * 256)))
        case .solarizeIncreasing: return .solarize(threshold: 256 - Swift.min(256, Int(level * 256)))
        case .solarizeAdd: return .solarizeAdd(amount: Swift.min(128, Int(level * 110)), threshold: 128)
        case .color: return .color(factor: factor())
        case .colorIncreasing: return .color(factor: increasingFactor())
        case .contrast: return .contrast(factor: factor())
        case .contrastIncreasing: return .contrast(factor: increasingFactor())
        case .brightness: return .brightness(factor: factor())
        case .brightnessIncreasing: return .brightness(factor: increasingFactor())
        case .sharpness: return .sharpness(factor: factor())
        case .sharpnessIncreasing: return .sharpness(factor: increasingFactor())
        case .shearX: return .shearX(factor: signed(level * 0.3), interpolation: interpolation)
        case .shearY: return .shearY(factor: signed(level * 0.3), interpolation: interpolation)
        case .translateXRel: return .translateX(fraction: signed(level * translatePercent), interpolation: interpolation)
        case .translateYRel: return .translateY(fraction: signed(level * translatePercent), interpolation: interpolation)
        }
    }
}
