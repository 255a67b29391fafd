import Datasets
import Foundation
import Tensor
import XCTest

/// Resizing, cropping, flipping and normalising against torchvision on PIL images.
final class ResizeAndCropTests: XCTestCase {
    private func source() throws -> RGB8Image { try DataFixtures.image("decode.png_rgb8") }

    private func interpolation(_ parameters: [String: Any]) -> Interpolation {
        Interpolation(rawValue: parameters["interpolation"] as? String ?? "") ?? .bilinear
    }

    /// PIL's fixed-point resampler is reproduced exactly: up, down, one axis, extreme shrink.
    func testResizeMatchesPILExactly() throws {
        let image = try source()
        var checked = 0
        for key in try DataFixtures.keys(prefix: "resize.") {
            let p = try DataFixtures.parameters(key)
            let actual: RGB8Image
            switch p["op"] as? String {
            case "resize":
                actual = image.resized(width: p["width"] as! Int, height: p["height"] as! Int, interpolation: interpolation(p))
            case "resize_shorter":
                actual = image.resized(shorterSide: p["size"] as! Int, interpolation: interpolation(p))
            case "center_crop":
                let box = TorchvisionGeometry.centerCrop(width: image.width, height: image.height,
                                                         cropWidth: p["width"] as! Int, cropHeight: p["height"] as! Int)
                actual = image.cropped(to: box)
            case "hflip":
                actual = image.flippedHorizontally()
            case "resized_crop":
                let box = TorchvisionGeometry.Box(left: p["left"] as! Int, top: p["top"] as! Int, width: p["width"] as! Int, height: p["height"] as! Int)
                actual = image.cropped(to: box).resized(width: p["size"] as! Int, height: p["size"] as! Int, interpolation: interpolation(p))
            default:
                XCTFail("\(key): unknown op \(p)")
                continue
            }
            assertImagesClose(actual, try DataFixtures.image(key), tolerance: 0, key)
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 15)
    }

    func testNormalisationMatchesTorchvisionBitForBit() throws {
        let crop = try DataFixtures.image("resize.center_crop_32")
        let expected = try XCTUnwrap(try DataFixtures.references().tensors["normalize.imagenet"])
        let actual = TensorPacker(normalization: .imagenet).tensor(crop)
        XCTAssertEqual(actual.shape, [3, 32, 32])
        XCTAssertEqual(actual.scalars, expected.scalars)
    }

    func testTorchvisionGeometryRules() {
        XCTAssertTrue(TorchvisionGeometry.shorterSide(width: 61, height: 47, to: 32) == (41, 32))
        XCTAssertTrue(TorchvisionGeometry.shorterSide(width: 300, height: 500, to: 256) == (256, 426))
        // round(14.5) = 14 and round(7.5) = 8: Python rounds half to even.
        XCTAssertEqual(TorchvisionGeometry.centerCrop(width: 61, height: 47, cropWidth: 32, cropHeight: 32),
                       .init(left: 14, top: 8, width: 32, height: 32))
        // A 300×20 strip is wider than 4:3, so the fallback keeps the height and trims the width.
        XCTAssertEqual(TorchvisionGeometry.randomResizedCropFallback(width: 300, height: 20, ratio: 0.75...(4.0 / 3)),
                       .init(left: 136, top: 0, width: 27, height: 20))
        XCTAssertEqual(TorchvisionGeometry.randomResizedCropFallback(width: 20, height: 300, ratio: 0.75...(4.0 / 3)),
                       .init(left: 0, top: 136, width: 20, height: 27))
    }

    func testRandomCropsStayInsideAndAreSeeded() {
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5)
        for _ in 0..<200 {
            let box = TorchvisionGeometry.randomResizedCrop(width: 90, height: 60, scale: 0.08...1, ratio: 0.75...(4.0 / 3), using: &a)
            XCTAssertEqual(box, TorchvisionGeometry.randomResizedCrop(width: 90, height: 60, scale: 0.08...1, ratio: 0.75...(4.0 / 3), using: &b))
            XCTAssertTrue(box.left >= 0 && box.top >= 0 && box.left + box.width <= 90 && box.top + box.height <= 60, "\(box)")
            let crop = TorchvisionGeometry.randomCrop(width: 90, height: 60, cropWidth: 50, cropHeight: 60, using: &a)
            XCTAssertEqual(crop, TorchvisionGeometry.randomCrop(width: 90, height: 60, cropWidth: 50, cropHeight: 60, using: &b))
            XCTAssertEqual(crop?.top, 0)
            XCTAssertLessThanOrEqual(crop!.left, 40)
        }
        XCTAssertNil(TorchvisionGeometry.randomCrop(width: 10, height: 10, cropWidth: 11, cropHeight: 5, using: &a))
    }

    /// FGVC train: shorter side 256, a random 224 crop of it, maybe flipped; eval: the centre crop.
    func testFGVCPipelinesCropTheResizedImage() throws {
        let image = TinyDatasets.image(label: 1, index: 2, width: 300, height: 260)
        let resized = image.resized(shorterSide: 256, interpolation: .bilinear)
        XCTAssertEqual([resized.width, resized.height], [295, 256])
        let eval = try ImagePipeline.fgvc(train: false)
        XCTAssertEqual(try eval.prepare(image, source: "x"),
                       resized.cropped(to: TorchvisionGeometry.centerCrop(width: 295, height: 256, cropWidth: 224, cropHeight: 224)))
        let train = try ImagePipeline.fgvc(train: true)
        let prepared = try train.prepare(image, source: "x")
        XCTAssertEqual(prepared, resized)   // the random crop and flip come after the cache point
        var rng = SeededRandom(seed: 9)
        let out = try train.augment(prepared, using: &rng, source: "x")
        XCTAssertEqual([out.width, out.height], [224, 224])
        let rrc = try ImagePipeline(transforms: [.randomResizedCrop(width: 32, height: 24, scale: [0.08, 1], ratio: [0.75, 4.0 / 3], interpolation: .bicubic)],
                                    normalization: .none)
        XCTAssertEqual(try rrc.augment(image, using: &rng, source: "x").width, 32)
        XCTAssertThrowsError(try ImagePipeline(transforms: [.randomCrop(width: 0, height: 4)], normalization: .none))
        var small = SeededRandom(seed: 1)
        XCTAssertThrowsError(try ImagePipeline(transforms: [.randomCrop(width: 400, height: 4)], normalization: .none)
            .augment(image, using: &small, source: "tiny.png"))
    }
}
