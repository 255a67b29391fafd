import Tensor

/// One preprocessing step, with torchvision-on-PIL semantics. Steps are values (Codable), so a
/// pipeline can be written into results and into feature-cache keys verbatim.
public enum ImageTransform: Codable, Equatable, Sendable {
    /// `Resize((height, width))`.
    case resize(width: Int, height: Int, interpolation: Interpolation)
    /// `Resize(size)`: shorter side to `size`, aspect ratio kept.
    case resizeShorterSide(size: Int, interpolation: Interpolation)
    /// `CenterCrop((height, width))`, zero-padded when larger than the image.
    case centerCrop(width: Int, height: Int)
    /// `RandomCrop((height, width))` without padding.
    case randomCrop(width: Int, height: Int)
    /// `RandomResizedCrop((height, width), scale, ratio, interpolation)`.
    case randomResizedCrop(width: Int, height: Int, scale: [Double], ratio: [Double], interpolation: Interpolation)
    /// `RandomHorizontalFlip(p)`.
    case horizontalFlip(probability: Double)
    /// timm's RandAugment.
    case randAugment(RandAugment)
    /// `RandomApply([ColorJitter(...)], p)`.
    case colorJitter(ColorJitter)
    /// `RandomGrayscale(p)`: PIL's luma copied to all three channels.
    case grayscale(probability: Double)

    /// Whether the step draws random numbers (and so cannot be cached or precomputed).
    public var isRandom: Bool {
        switch self {
        case .resize, .resizeShorterSide, .centerCrop: return false
        case .randomCrop, .randomResizedCrop, .horizontalFlip, .randAugment, .colorJitter, .grayscale: return true
        }
    }

    /// The output size when it does not depend on the input.
    public var fixedOutputSize: (width: Int, height: Int)? {
        switch self {
        case let .resize(w, h, _), let .centerCrop(w, h), let .randomCrop(w, h), let .randomResizedCrop(w, h, _, _, _): return (w, h)
        case .resizeShorterSide, .horizontalFlip, .randAugment, .colorJitter, .grayscale: return nil
        }
    }

    /// Checks the parameters once, when a pipeline is built.
    func validate() throws {
        func positive(_ values: Int...) throws {
            guard values.allSatisfy({ (1...65_536).contains($0) }) else {
                throw DatasetError(file: "<pipeline>", "\(self): sizes must be between 1 and 65536")
            }
        }
        switch self {
        case let .resize(w, h, _), let .centerCrop(w, h), let .randomCrop(w, h): try positive(w, h)
        case let .resizeShorterSide(size, _): try positive(size)
        case let .randomResizedCrop(w, h, scale, ratio, _):
            try positive(w, h)
            guard scale.count == 2, ratio.count == 2, scale[0] > 0, scale[0] <= scale[1], scale[1] <= 1e6,
                  ratio[0] > 0, ratio[0] <= ratio[1], ratio[1] <= 1e6 else {
                throw DatasetError(file: "<pipeline>", "randomResizedCrop: scale \(scale) and ratio \(ratio) must be positive [low, high] pairs")
            }
        case let .horizontalFlip(p), let .grayscale(p):
            guard (0...1).contains(p) else { throw DatasetError(file: "<pipeline>", "\(self): probability \(p) is not in [0, 1]") }
        case .randAugment: break
        case let .colorJitter(jitter): try jitter.validate()
        }
    }

    /// Applies the step; `source` names the sample in errors.
    func apply(to image: RGB8Image, using rng: inout SeededRandom, source: String) throws -> RGB8Image {
        switch self {
        case let .resize(w, h, interpolation):
            return image.resized(width: w, height: h, interpolation: interpolation)
        case let .resizeShorterSide(size, interpolation):
            return image.resized(shorterSide: size, interpolation: interpolation)
        case let .centerCrop(w, h):
            return image.cropped(to: TorchvisionGeometry.centerCrop(width: image.width, height: image.height, cropWidth: w, cropHeight: h))
        case let .randomCrop(w, h):
            guard let box = TorchvisionGeometry.randomCrop(width: image.width, height: image.height, cropWidth: w, cropHeight: h, using: &rng) else {
                throw DatasetError(file: source, "image is \(image.width)×\(image.height), smaller than the random crop \(w)×\(h)")
            }
            return image.cropped(to: box)
        case let .randomResizedCrop(w, h, scale, ratio, interpolation):
            let box = TorchvisionGeometry.randomResizedCrop(width: image.width, height: image.height, scale: scale[0]...scale[1],
                                                            ratio: ratio[0]...ratio[1], using: &rng)
            return image.cropped(to: box).resized(width: w, height: h, interpolation: interpolation)
        case let .horizontalFlip(p):
            return Double(rng.nextUniform()) < p ? image.flippedHorizontally() : image
        case let .randAugment(augment):
            return augment.apply(to: image, using: &rng)
        case let .colorJitter(jitter):
            return jitter.apply(to: image, using: &rng)
        case let .grayscale(p):
            return Double(rng.nextUniform()) < p ? PILEnhance.grayscale(image) : image
        }
    }
}
