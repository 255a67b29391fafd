import Foundation
import Tensor

/// timm's `RandomErasing` in 'pixel' mode (Zhong et al., AAAI 2020), on a normalised [C, H, W]
/// image: with `probability`, one rectangle of 2–33 % of the area and aspect 0.3–1/0.3 (up to ten
/// tries to fit) is filled with N(0, 1) noise per value. VideoMAE erases each frame of a clip on
/// its own (`--reprob 0.25`, `--remode pixel`, `--recount 1`: the clip's frames are the batch
/// timm iterates over). The draws come from our streams, so rectangles differ from timm's.
public struct RandomErasing: Codable, Equatable, Sendable {
    public var probability: Double
    public var minArea = 0.02
    public var maxArea = 1.0 / 3
    public var minAspect = 0.3

    public init(probability: Double) {
        precondition((0...1).contains(probability), "erasing probability \(probability) must be in [0, 1]")
        self.probability = probability
    }

    /// VideoMAE's fine-tuning setting.
    public static let videoMAE = RandomErasing(probability: 0.25)

    /// Erases in place in the [channels, height, width] floats at `image`.
    public func apply(to image: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int, using rng: inout SeededRandom) {
        guard Double(rng.nextUniform()) < probability else { return }
        let area = Double(height * width)
        let logAspect = (log(minAspect), log(1 / minAspect))
        for _ in 0..<10 {
            let target = (minArea + (maxArea - minArea) * Double(rng.nextUniform())) * area
            let aspect = exp(logAspect.0 + (logAspect.1 - logAspect.0) * Double(rng.nextUniform()))
            let h = Int((target * aspect).squareRoot().rounded()), w = Int((target / aspect).squareRoot().rounded())
            guard w < width, h < height else { continue }
            let top = rng.nextInt(height - h + 1), left = rng.nextInt(width - w + 1)
            for c in 0..<channels {
                for y in top..<(top + h) {
                    let row = image + (c * height + y) * width + left
                    for x in 0..<w { row[x] = rng.nextNormal() }
                }
            }
            return
        }
    }
}
