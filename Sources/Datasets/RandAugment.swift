import Foundation
import Tensor

/// timm's RandAugment, configured by a timm string such as `rand-m9-mstd0.5-inc1` and driven by
/// our `SeededRandom`: per image, `layers` ops drawn uniformly with replacement; each applied
/// with probability `probability`, at a magnitude drawn from N(magnitude, magnitudeStd²)
/// clipped to [0, magnitudeMax] (uniform in [0, magnitude] when the std exceeds 100), with a
/// random sign where timm flips one. The draws are ours; each op, once drawn, is timm's.
public struct RandAugment: Codable, Equatable, Sendable {
    /// How geometric ops resample: timm draws bilinear or bicubic per op unless the transform
    /// factory passes one interpolation in its hyper-parameters.
    public enum Resampling: String, Codable, Sendable {
        case random, bilinear, bicubic
    }

    public let spec: String
    public let magnitude: Double
    public let magnitudeStd: Double
    public let magnitudeMax: Double
    public let layers: Int
    public let probability: Double
    public let increasing: Bool
    public let resampling: Resampling
    /// Fill colour of geometric ops (timm's `img_mean`, the normalisation mean × 255).
    public let fill: [UInt8]
    /// Range of the relative translations (timm's `translate_pct`).
    public let translatePercent: Double

    /// Parses a timm RandAugment string (`rand` then dash-separated `m`, `n`, `p`, `mstd`,
    /// `mmax`, `inc` sections, as `rand_augment_transform`).
    public init(spec: String, fill: (UInt8, UInt8, UInt8), resampling: Resampling = .random, translatePercent: Double = 0.45) throws {
        let sections = spec.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard sections.first == "rand" else {
            throw DatasetError(file: "<randaugment>", "'\(spec)' is not a RandAugment spec (it must start with 'rand')")
        }
        var magnitude = 10.0, std = 0.0, maximum = 10.0, layers = 2, probability = 0.5, increasing = false
        for section in sections.dropFirst() {
            guard let digit = section.firstIndex(where: \.isNumber) else {
                throw DatasetError(file: "<randaugment>", "'\(spec)': section '\(section)' has no value")
            }
            let key = String(section[..<digit]), value = String(section[digit...])
            func number() throws -> Double {
                guard let v = Double(value), v.isFinite else {
                    throw DatasetError(file: "<randaugment>", "'\(spec)': '\(value)' is not a number in section '\(section)'")
                }
                return v
            }
            func integer() throws -> Int {   // timm parses these with int()
                guard let v = Int(value) else {
                    throw DatasetError(file: "<randaugment>", "'\(spec)': '\(value)' is not an integer in section '\(section)'")
                }
                return v
            }
            switch key {
            case "m": magnitude = Double(try integer())
            case "n": layers = try integer()
            case "p": probability = try number()
            case "mstd": std = try number()
            case "mmax": maximum = Double(try integer())
            case "inc": increasing = try integer() != 0
            default:
                throw DatasetError(file: "<randaugment>", "'\(spec)': unknown section '\(section)' (supported: m, n, p, mstd, mmax, inc)")
            }
        }
        guard layers >= 0, (0...1).contains(probability), std >= 0 else {
            throw DatasetError(file: "<randaugment>", "'\(spec)': need n ≥ 0, 0 ≤ p ≤ 1 and mstd ≥ 0")
        }
        self.spec = spec
        self.magnitude = magnitude
        self.magnitudeStd = std
        self.magnitudeMax = maximum == 0 ? 10 : maximum
        self.layers = layers
        self.probability = probability
        self.increasing = increasing
        self.resampling = resampling
        self.fill = [fill.0, fill.1, fill.2]
        self.translatePercent = translatePercent
    }

    public var ops: [RandAugmentOp] { increasing ? RandAugmentOp.increasingSet : RandAugmentOp.standardSet }

    /// The operations this image gets, drawn from `rng` (an empty list when every layer's
    /// probability coin said no).
    public func draw(using rng: inout SeededRandom) -> [ImageAugmentation] {
        let ops = self.ops
        let chosen = (0..<layers).map { _ in ops[rng.nextInt(ops.count)] }
        var drawn: [ImageAugmentation] = []
        for op in chosen {
            if probability < 1, Double(rng.nextUniform()) > probability { continue }
            var m = magnitude
            if magnitudeStd > 100 {
                m = Double(rng.nextUniform()) * magnitude
            } else if magnitudeStd > 0 {
                m = magnitude + magnitudeStd * Double(rng.nextNormal())
            }
            m = Swift.max(0, Swift.min(m, magnitudeMax))
            let negate = op.hasRandomSign && rng.nextUniform() > 0.5
            var interpolation = Interpolation.bicubic
            if op.isGeometric {
                switch resampling {
                case .random: interpolation = rng.nextInt(2) == 0 ? .bilinear : .bicubic
                case .bilinear: interpolation = .bilinear
                case .bicubic: interpolation = .bicubic
                }
            }
            drawn.append(op.augmentation(magnitude: m, negate: negate, interpolation: interpolation, translatePercent: translatePercent))
        }
        return drawn
    }

    public func apply(to image: RGB8Image, using rng: inout SeededRandom) -> RGB8Image {
        let fillColour = (fill[0], fill[1], fill[2])
        return draw(using: &rng).reduce(image) { $1.apply(to: $0, fill: fillColour) }
    }
}
