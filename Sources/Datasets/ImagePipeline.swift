import Foundation
import Tensor

/// Preprocessing from a decoded image to a network input: transforms, then `ToTensor` and
/// normalisation. Codable so every result records exactly what its inputs went through.
///
/// The leading deterministic steps form the *preparation* (decoded, resized — cacheable and the
/// basis of frozen-feature cache keys); the rest is the per-epoch *augmentation*, which draws
/// from a random stream seeded per sample and epoch.
public struct ImagePipeline: Codable, Equatable, Sendable {
    public let transforms: [ImageTransform]
    public let normalization: PixelNormalization

    public init(transforms: [ImageTransform], normalization: PixelNormalization) throws {
        for t in transforms { try t.validate() }
        self.transforms = transforms
        self.normalization = normalization
    }

    /// How many leading steps are deterministic.
    public var preparationCount: Int { transforms.firstIndex(where: \.isRandom) ?? transforms.count }

    /// True when the pipeline draws nothing random (evaluation, or training without
    /// augmentation): then an image's input, and any frozen feature of it, never changes.
    public var isDeterministic: Bool { preparationCount == transforms.count }

    /// The output size, when the last size-setting step fixes it.
    public var outputSize: (width: Int, height: Int)? {
        for t in transforms.reversed() {
            if let size = t.fixedOutputSize { return size }
            if case .resizeShorterSide = t { return nil }
        }
        return nil
    }

    /// The deterministic steps (what the in-memory cache stores).
    public func prepare(_ image: RGB8Image, source: String) throws -> RGB8Image {
        var rng = SeededRandom(seed: 0)   // never drawn from: these steps are deterministic
        var current = image
        for t in transforms[..<preparationCount] { current = try t.apply(to: current, using: &rng, source: source) }
        return current
    }

    /// The random steps, applied to a prepared image.
    public func augment(_ prepared: RGB8Image, using rng: inout SeededRandom, source: String) throws -> RGB8Image {
        var current = prepared
        for t in transforms[preparationCount...] { current = try t.apply(to: current, using: &rng, source: source) }
        return current
    }

    /// The pipeline as canonical JSON (sorted keys): stable across runs and machines, recorded
    /// in results and hashed into feature-cache keys.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain enums, ints, doubles and strings cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The canonical JSON of the preparation steps (and normalisation) only: what a frozen
    /// feature of an unaugmented input depends on.
    public var preparationJSON: String {
        ImagePipeline(validated: Array(transforms[..<preparationCount]), normalization: normalization).canonicalJSON
    }

    private init(validated transforms: [ImageTransform], normalization: PixelNormalization) {
        self.transforms = transforms
        self.normalization = normalization
    }
}

extension ImagePipeline {
    /// VTAB-1k (docs/protocols.md, "Preprocessing"): resize to `size`×`size`; with `augment`, then horizontal flip
    /// p = 0.5 and RandAugment `rand-m9-mstd0.5-inc1` filling with the normalisation mean.
    /// V-PETL resizes bilinearly, SCT/NOAH bicubically: the caller says which.
    public static func vtab1k(augment: Bool, interpolation: Interpolation, normalization: PixelNormalization = .imagenet,
                              size: Int = 224, randAugment spec: String = "rand-m9-mstd0.5-inc1",
                              randAugmentResampling: RandAugment.Resampling = .random) throws -> ImagePipeline {
        var steps: [ImageTransform] = [.resize(width: size, height: size, interpolation: interpolation)]
        if augment {
            steps.append(.horizontalFlip(probability: 0.5))
            steps.append(.randAugment(try RandAugment(spec: spec, fill: normalization.meanLevels, resampling: randAugmentResampling)))
        }
        return try ImagePipeline(transforms: steps, normalization: normalization)
    }

    /// FGVC (VPT): train = resize shorter side 256 → random crop 224 → flip; eval = resize
    /// shorter side 256 → centre crop 224.
    public static func fgvc(train: Bool, interpolation: Interpolation = .bilinear, normalization: PixelNormalization = .imagenet,
                            resize: Int = 256, crop: Int = 224) throws -> ImagePipeline {
        let steps: [ImageTransform] = train
            ? [.resizeShorterSide(size: resize, interpolation: interpolation), .randomCrop(width: crop, height: crop), .horizontalFlip(probability: 0.5)]
            : [.resizeShorterSide(size: resize, interpolation: interpolation), .centerCrop(width: crop, height: crop)]
        return try ImagePipeline(transforms: steps, normalization: normalization)
    }

    /// Two-view contrastive augmentation (SupContrast/SimCLR, as GPS's pre-pass uses it):
    /// RandomResizedCrop(size) → flip → ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8 →
    /// RandomGrayscale(0.2).
    public static func contrastiveViews(size: Int, interpolation: Interpolation, normalization: PixelNormalization) throws -> ImagePipeline {
        try ImagePipeline(transforms: [
            .randomResizedCrop(width: size, height: size, scale: [0.08, 1], ratio: [3.0 / 4, 4.0 / 3], interpolation: interpolation),
            .horizontalFlip(probability: 0.5),
            .colorJitter(ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 0.8)),
            .grayscale(probability: 0.2),
        ], normalization: normalization)
    }
}
