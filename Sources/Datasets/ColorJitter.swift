import Tensor

/// torchvision's `RandomApply([ColorJitter(brightness, contrast, saturation, hue)], p)` on PIL
/// images: with probability `probability`, the four adjustments in a random order, each with a
/// factor drawn uniformly from [max(0, 1 − x), 1 + x] (hue: a shift in [−hue, hue]). The random
/// numbers are ours (seeded per sample and epoch), the operations PIL's.
public struct ColorJitter: Codable, Equatable, Sendable {
    public var brightness: Double
    public var contrast: Double
    public var saturation: Double
    public var hue: Double
    public var probability: Double

    public init(brightness: Double, contrast: Double, saturation: Double, hue: Double, probability: Double = 1) {
        (self.brightness, self.contrast, self.saturation, self.hue, self.probability) = (brightness, contrast, saturation, hue, probability)
    }

    func validate() throws {
        guard [brightness, contrast, saturation].allSatisfy({ $0 >= 0 && $0.isFinite }), (0...0.5).contains(hue), (0...1).contains(probability) else {
            throw DatasetError(file: "<pipeline>", "colorJitter: brightness/contrast/saturation must be ≥ 0, hue in [0, 0.5], probability in [0, 1] (got \(self))")
        }
    }

    func apply(to image: RGB8Image, using rng: inout SeededRandom) -> RGB8Image {
        guard Double(rng.nextUniform()) < probability else { return image }
        func factor(_ x: Double) -> Double { max(0, 1 - x) + Double(rng.nextUniform()) * (1 + x - max(0, 1 - x)) }
        var order = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, Int(rng.nextUniform() * Float(i + 1)) % (i + 1)) }
        let (b, c, s) = (factor(brightness), factor(contrast), factor(saturation))
        let h = -hue + Double(rng.nextUniform()) * 2 * hue
        var out = image
        for step in order {
            switch step {
            case 0: out = PILEnhance.brightness(out, factor: b)
            case 1: out = PILEnhance.contrast(out, factor: c)
            case 2: out = PILEnhance.color(out, factor: s)
            default: out = PILHue.adjust(out, factor: h)
            }
        }
        return out
    }
}
