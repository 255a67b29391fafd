import CPNG
import Foundation
import Viz
import XCTest

final class PNGTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("viz-png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func sampleImage() -> RGBImage {
        var image = RGBImage(width: 7, height: 5)
        for y in 0..<5 { for x in 0..<7 { image[x, y] = (UInt8(x * 30), UInt8(y * 50), UInt8((x + y) * 10)) } }
        return image
    }

    /// Decodes with libpng directly (not through Viz), so a bug shared by our encoder and
    /// decoder cannot hide.
    private func decodeWithLibpng(_ url: URL, format: UInt32) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let data = try Data(contentsOf: url)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        XCTAssertNotEqual(began, 0)
        image.format = format
        let channels = format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0 ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: Int(image.width * image.height) * channels)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(Int(image.width) * channels), nil)
        }
        XCTAssertNotEqual(finished, 0)
        return (Int(image.width), Int(image.height), pixels)
    }

    func testRGBFileDecodesWithLibpngToTheSamePixels() throws {
        let url = folder.appendingPathComponent("rgb.png")
        let image = sampleImage()
        try PNG.write(image, to: url)
        let decoded = try decodeWithLibpng(url, format: UInt32(PNG_FORMAT_RGB))
        XCTAssertEqual(decoded.width, 7)
        XCTAssertEqual(decoded.height, 5)
        XCTAssertEqual(decoded.pixels, image.pixels)
        let ours = try PNG.read(url)
        XCTAssertEqual(ours.channels, 3)
        XCTAssertEqual(ours.rgbImage, image)
    }

    func testRGBAKeepsAlpha() throws {
        let pixels: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 40]
        let url = folder.appendingPathComponent("rgba.png")
        try PNG.writeRGBA(pixels: pixels, width: 2, height: 2, to: url)
        let decoded = try decodeWithLibpng(url, format: UInt32(PNG_FORMAT_RGB) | UInt32(PNG_FORMAT_FLAG_ALPHA))
        XCTAssertEqual(decoded.pixels, pixels)
        let ours = try PNG.read(url)
        XCTAssertTrue(ours.hasAlpha)
        XCTAssertEqual(ours.pixels, pixels)
    }

    func testWriteReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let url = folder.appendingPathComponent("plot.png")
        try PNG.write(RGBImage(width: 3, height: 3), to: url)
        try PNG.write(sampleImage(), to: url)
        XCTAssertEqual(try PNG.read(url).width, 7)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["plot.png"])
    }

    func testCorruptDataIsAnErrorNotACrash() throws {
        let good = try PNG.encode(sampleImage())
        XCTAssertThrowsError(try PNG.decode(Data("not a png".utf8)))
        XCTAssertThrowsError(try PNG.decode(good.prefix(good.count / 2)))
        XCTAssertThrowsError(try PNG.encodeRGBA(pixels: [1, 2, 3], width: 1, height: 1))
    }
}
