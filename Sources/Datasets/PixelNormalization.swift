/// How [0, 1] pixels become network inputs: `(x − mean) / std` per channel, as torchvision's
/// `Normalize` after `ToTensor`. The preset name and the numbers are part of every pipeline
/// description (and so of every result), because repositories disagree: ImageNet statistics,
/// Inception's 0.5/0.5, or none at all.
public struct PixelNormalization: Codable, Equatable, Sendable {
    /// `imagenet`, `inception`, `none` or `custom`.
    public let name: String
    public let mean: [Float]
    public let std: [Float]

    public static let imagenet = PixelNormalization(name: "imagenet", mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    public static let inception = PixelNormalization(name: "inception", mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
    public static let none = PixelNormalization(name: "none", mean: [0, 0, 0], std: [1, 1, 1])

    public static func custom(mean: [Float], std: [Float]) throws -> PixelNormalization {
        guard mean.count == 3, std.count == 3 else {
            throw DatasetError(file: "<normalization>", "custom normalisation needs 3 means and 3 stds, got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw DatasetError(file: "<normalization>", "custom normalisation needs finite means and positive stds, got mean \(mean) std \(std)")
        }
        return PixelNormalization(name: "custom", mean: mean, std: std)
    }

    /// A preset by name; `custom` needs `custom(mean:std:)`.
    public static func named(_ name: String) throws -> PixelNormalization {
        switch name {
        case "imagenet": return .imagenet
        case "inception": return .inception
        case "none": return .none
        default: throw DatasetError(file: "<normalization>", "unknown normalisation '\(name)' (imagenet, inception, none, or custom mean/std)")
        }
    }

    private init(name: String, mean: [Float], std: [Float]) {
        self.name = name
        self.mean = mean
        self.std = std
    }

    /// timm's RandAugment fill colour: the mean as 0–255 levels (`min(255, round(255·m))`,
    /// Python's half-to-even rounding), so geometric ops fill with "average" pixels.
    public var meanLevels: (UInt8, UInt8, UInt8) {
        func level(_ m: Float) -> UInt8 { UInt8(Swift.min(255, Swift.max(0, (255 * Double(m)).rounded(.toNearestOrEven)))) }
        return (level(mean[0]), level(mean[1]), level(mean[2]))
    }

    /// For each channel, the normalised value of each of the 256 levels, computed in Float as
    /// torchvision does (`v / 255`, then `(x − mean) / std`), so lookups equal its arithmetic.
    var lookupTables: [[Float]] {
        (0..<3).map { c in (0..<256).map { v in (Float(v) / 255 - mean[c]) / std[c] } }
    }
}
