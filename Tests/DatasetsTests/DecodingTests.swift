import Datasets
import Foundation
import XCTest

/// Decoding every fixture file against PIL's `Image.open(f).convert("RGB")`.
final class DecodingTests: XCTestCase {
    /// Measured against Pillow 13 (bundling libjpeg-turbo 3.2) with Debian's libjpeg-turbo 2.1.5:
    /// both run the accurate integer IDCT and fancy upsampling, whose SIMD versions are bit-exact
    /// with the C code, and every fixture (4:4:4, 4:2:2, 4:2:0, progressive, grey, CMYK) decodes
    /// to identical pixels. So the tolerance is zero.
    static let jpegTolerance = 0

    func testJPEGMatchesPIL() throws {
        for name in ["jpeg_444", "jpeg_422", "jpeg_420", "jpeg_progressive", "jpeg_gray", "jpeg_cmyk", "jpeg_exif_rotated"] {
            let decoded = try ImageDecoder.decode(contentsOf: DataFixtures.url("images/\(name).jpg"))
            assertImagesClose(decoded, try DataFixtures.image("decode.\(name)"), tolerance: Self.jpegTolerance, name)
        }
    }

    func testPNGMatchesPILExactly() throws {
        for name in ["png_rgb8", "png_rgba8", "png_palette", "png_palette_trns", "png_gray8", "png_gray_alpha", "png_gray1",
                     "png_gray2", "png_gray4", "png_rgb16", "png_gray16", "png_interlaced", "png_gamma"] {
            let decoded = try ImageDecoder.decode(contentsOf: DataFixtures.url("images/\(name).png"))
            assertImagesClose(decoded, try DataFixtures.image("decode.\(name)"), tolerance: 0, name)
        }
    }

    /// 16-bit with alpha goes through libpng's rounding (v·255/65535) instead of PIL's high byte.
    func testSixteenBitAlphaPNGWithinOneLevel() throws {
        let decoded = try ImageDecoder.decode(contentsOf: DataFixtures.url("images/png_rgba16.png"))
        assertImagesClose(decoded, try DataFixtures.image("decode.png_rgba16"), tolerance: 1, "png_rgba16")
    }

    func testPNGEncoderRoundTrips() throws {
        let image = try DataFixtures.image("decode.png_rgb8")
        XCTAssertEqual(try ImageDecoder.decode(try PNGEncoder.encode(image), source: "rgb"), image)
        let gray = (0..<(7 * 5)).map { UInt8($0 * 7) }
        let decoded = try ImageDecoder.decode(try PNGEncoder.encodeGray(gray, width: 7, height: 5), source: "gray")
        XCTAssertEqual(decoded.pixels, gray.flatMap { [$0, $0, $0] })
    }
}
