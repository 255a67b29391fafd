import Datasets
import Foundation
import Tensor
import XCTest

/// ColorJitter's hue shift against torchvision's `adjust_hue` on PIL images, and the jitter and
/// grey-scale steps as pipeline transforms (GPS's contrastive views).
final class ColorJitterTests: XCTestCase {
    func testHueShiftMatchesTorchvisionExactly() throws {
        let source = try DataFixtures.image("augment.source")
        let keys = try DataFixtures.keys(prefix: "jitter.hue_")
        XCTAssertEqual(keys.count, 5)
        for key in keys {
            let factor = (try DataFixtures.parameters(key)["factor"] as! NSNumber).doubleValue
            assertImagesClose(PILHue.adjust(source, factor: factor), try DataFixtures.image(key), tolerance: 0, key)
        }
    }

    func testJitterAndGrayscaleSteps() throws {
        let source = try DataFixtures.image("augment.source")
        func step(_ t: ImageTransform) throws -> ImagePipeline { try ImagePipeline(transforms: [t], normalization: .imagenet) }
        let strong = ColorJitter(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, probability: 1)
        var never = strong
        never.probability = 0
        var rng = SeededRandom(seed: 3)
        // Probability 0 leaves the image alone.
        XCTAssertEqual(try step(.colorJitter(never)).augment(source, using: &rng, source: "s"), source)
        // Grey-scale is PIL's luma in every channel.
        let grey = try step(.grayscale(probability: 1)).augment(source, using: &rng, source: "s").pixels
        for i in stride(from: 0, to: grey.count, by: 3) { XCTAssertTrue(grey[i] == grey[i + 1] && grey[i] == grey[i + 2]) }
        let (r, g, b) = (Int(source.pixels[0]) * 19595, Int(source.pixels[1]) * 38470, Int(source.pixels[2]) * 7471)
        XCTAssertEqual(Int(grey[0]), (r + g + b + 0x8000) >> 16)
        // Jittering draws per call: a seeded draw repeats, the next draw differs.
        let jitter = try step(.colorJitter(strong))
        var a = SeededRandom(seed: 9), again = SeededRandom(seed: 9)
        let first = try jitter.augment(source, using: &a, source: "s")
        XCTAssertEqual(first, try jitter.augment(source, using: &again, source: "s"))
        XCTAssertNotEqual(first, try jitter.augment(source, using: &a, source: "s"))
        XCTAssertThrowsError(try step(.colorJitter(ColorJitter(brightness: -1, contrast: 0, saturation: 0, hue: 0))))
        XCTAssertThrowsError(try step(.grayscale(probability: 2)))
        let views = try ImagePipeline.contrastiveViews(size: 16, interpolation: .bicubic, normalization: .imagenet)
        XCTAssertFalse(views.isDeterministic)
        XCTAssertEqual(views.outputSize?.width, 16)
    }
}
