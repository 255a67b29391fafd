/// One concrete, deterministic PIL operation with its arguments fixed — what a RandAugment op
/// becomes once its magnitude and sign are drawn. Applying it is reproducible and is what the
/// tests compare against timm/PIL.
public enum ImageAugmentation: Equatable, Sendable, CustomStringConvertible {
    case autoContrast
    case equalize
    case invert
    case posterize(bits: Int)
    case solarize(threshold: Int)
    case solarizeAdd(amount: Int, threshold: Int)
    case color(factor: Double)
    case contrast(factor: Double)
    case brightness(factor: Double)
    case sharpness(factor: Double)
    case rotate(degrees: Double, interpolation: Interpolation)
    case shearX(factor: Double, interpolation: Interpolation)
    case shearY(factor: Double, interpolation: Interpolation)
    /// Shift by `fraction` of the width (timm's `translate_x_rel`).
    case translateX(fraction: Double, interpolation: Interpolation)
    case translateY(fraction: Double, interpolation: Interpolation)

    /// `fill`: the colour geometric operations give pixels that come from outside the image.
    public func apply(to image: RGB8Image, fill: (UInt8, UInt8, UInt8)) -> RGB8Image {
        switch self {
        case .autoContrast: return PILPointOperations.autoContrast(image)
        case .equalize: return PILPointOperations.equalize(image)
        case .invert: return PILPointOperations.invert(image)
        case let .posterize(bits): return bits >= 8 ? image : PILPointOperations.posterize(image, bits: bits)
        case let .solarize(threshold): return PILPointOperations.solarize(image, threshold: threshold)
        case let .solarizeAdd(amount, threshold): return PILPointOperations.solarizeAdd(image, amount: amount, threshold: threshold)
        case let .color(factor): return PILEnhance.color(image, factor: factor)
        case let .contrast(factor): return PILEnhance.contrast(image, factor: factor)
        case let .brightness(factor): return PILEnhance.brightness(image, factor: factor)
        case let .sharpness(factor): return PILEnhance.sharpness(image, factor: factor)
        case let .rotate(degrees, interpolation):
            return PILAffineTransform.rotate(image, degrees: degrees, interpolation: interpolation, fill: fill)
        case let .shearX(factor, interpolation):
            return PILAffineTransform.transform(image, matrix: (1, factor, 0, 0, 1, 0), interpolation: interpolation, fill: fill)
        case let .shearY(factor, interpolation):
            return PILAffineTransform.transform(image, matrix: (1, 0, 0, factor, 1, 0), interpolation: interpolation, fill: fill)
        case let .translateX(fraction, interpolation):
            let pixels = fraction * Double(image.width)
            return PILAffineTransform.transform(image, matrix: (1, 0, pixels, 0, 1, 0), interpolation: interpolation, fill: fill)
        case let .translateY(fraction, interpolation):
            let pixels = fraction * Double(image.height)
            return PILAffineTransform.transform(image, matrix: (1, 0, 0, 0, 1, pixels), interpolation: interpolation, fill: fill)
        }
    }

    public var description: String {
        switch self {
        case .autoContrast: return "AutoContrast"
        case .equalize: return "Equalize"
        case .invert: return "Invert"
        case let .posterize(bits): return "Posterize(bits: \(bits))"
        case let .solarize(threshold): return "Solarize(threshold: \(threshold))"
        case let .solarizeAdd(amount, threshold): return "SolarizeAdd(amount: \(amount), threshold: \(threshold))"
        case let .color(f): return "Color(\(f))"
        case let .contrast(f): return "Contrast(\(f))"
        case let .brightness(f): return "Brightness(\(f))"
        case let .sharpness(f): return "Sharpness(\(f))"
        case let .rotate(d, i): return "Rotate(\(d)°, \(i.rawValue))"
        case let .shearX(f, i): return "ShearX(\(f), \(i.rawValue))"
        case let .shearY(f, i): return "ShearY(\(f), \(i.rawValue))"
        case let .translateX(f, i): return "TranslateX(\(f)·width, \(i.rawValue))"
        case let .translateY(f, i): return "TranslateY(\(f)·height, \(i.rawValue))"
        }
    }
}
