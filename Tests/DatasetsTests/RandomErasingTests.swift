import Datasets
import Tensor
import XCTest

/// timm's pixel-mode random erasing: one rectangle of 2–33 % of the image (rounding aside) per
/// erased image, the same rectangle in every channel, filled with noise; probability 0 leaves
/// the image alone.
final class RandomErasingTests: XCTestCase {
    func testOneNoisyRectangleInEveryChannel() {
        var rng = SeededRandom(seed: 11)
        let (c, h, w) = (3, 20, 30)
        for _ in 0..<200 {
            var image = [Float](repeating: 0, count: c * h * w)
            image.withUnsafeMutableBufferPointer { RandomErasing(probability: 1).apply(to: $0.baseAddress!, channels: c, height: h, width: w, using: &rng) }
            let planes = (0..<c).map { channel in (0..<(h * w)).filter { image[channel * h * w + $0] != 0 } }
            XCTAssertEqual(planes[0], planes[1])
            XCTAssertEqual(planes[0], planes[2])
            let ys = planes[0].map { $0 / w }, xs = planes[0].map { $0 % w }
            let box = (ys.max()! - ys.min()! + 1) * (xs.max()! - xs.min()! + 1)
            XCTAssertEqual(box, planes[0].count, "a rectangle")
            XCTAssertTrue((6...220).contains(box), "area \(box) of 600")
        }
        var untouched = [Float](repeating: 0.5, count: c * h * w)
        untouched.withUnsafeMutableBufferPointer { RandomErasing(probability: 0).apply(to: $0.baseAddress!, channels: c, height: h, width: w, using: &rng) }
        XCTAssertTrue(untouched.allSatisfy { $0 == 0.5 })
    }
}
