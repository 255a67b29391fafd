import CPNG
import Foundation

/// PNG encoding and decoding through libpng's simplified API (`png_image_*`), which reports
/// errors as return codes and a message instead of `longjmp`, so it is safe to call from Swift.
/// Plots and overlays are written as 8-bit RGB; RGBA is there for images with transparency.
/// The decoder exists so tests (and tools) can read back exactly what was written.
public enum PNG {
    public struct CodecError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Pixels decoded from a PNG: 8 bits per channel, RGB (3 channels) or RGBA (4, when the file
    /// has an alpha channel or transparency). Grey and palette files are expanded to RGB.
    public struct DecodedImage: Equatable, Sendable {
        public let width: Int
        public let height: Int
        public let channels: Int
        public let pixels: [UInt8]

        public var hasAlpha: Bool { channels == 4 }

        /// The colour channels as an `RGBImage` (alpha dropped, not composited).
        public var rgbImage: RGBImage {
            var image = RGBImage(width: width, height: height)
            for i in 0..<(width * height) {
                for c in 0..<3 { image.pixels[3 * i + c] = pixels[channels * i + c] }
            }
            return image
        }
    }

    public static func encode(_ image: RGBImage) throws -> Data {
        try encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3)
    }

    /// RGBA8, row-major, `width · height · 4` bytes, straight (not premultiplied) alpha.
    public static func encodeRGBA(pixels: [UInt8], width: Int, height: Int) throws -> Data {
        try encode(pixels: pixels, width: width, height: height, channels: 4)
    }

    public static func write(_ image: RGBImage, to url: URL) throws {
        try AtomicFile.write(encode(image), to: url)
    }

    public static func writeRGBA(pixels: [UInt8], width: Int, height: Int, to url: URL) throws {
        try AtomicFile.write(encodeRGBA(pixels: pixels, width: width, height: height), to: url)
    }

    public static func decode(_ data: Data) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { bytes in
            png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count)
        }
        guard began != 0 else { throw CodecError(description: "PNG decode: \(message(of: &image))") }
        let channels = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0 ? 4 : 3
        image.format = channels == 4 ? UInt32(PNG_FORMAT_RGB) | UInt32(PNG_FORMAT_FLAG_ALPHA) : UInt32(PNG_FORMAT_RGB)
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else {
            png_image_free(&image)
            throw CodecError(description: "PNG decode: \(message(of: &image))")
        }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    public static func read(_ url: URL) throws -> DecodedImage {
        do {
            return try decode(Data(contentsOf: url))
        } catch let error as CodecError {
            throw CodecError(description: "\(url.path): \(error.description)")
        }
    }

    private static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
        guard width > 0, height > 0, pixels.count == width * height * channels else {
            throw CodecError(description: "PNG encode: \(pixels.count) bytes do not make a \(width)×\(height) image with \(channels) channels")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 4 ? UInt32(PNG_FORMAT_RGB) | UInt32(PNG_FORMAT_FLAG_ALPHA) : UInt32(PNG_FORMAT_RGB)
        let stride = Int32(width * channels)
        // First call sizes the output, second fills it (libpng's documented two-pass pattern).
        var size: png_alloc_size_t = 0
        let sized = pixels.withUnsafeBytes { buffer in
            png_image_write_to_memory(&image, nil, &size, 0, buffer.baseAddress, stride, nil)
        }
        guard sized != 0 else { throw CodecError(description: "PNG encode: \(message(of: &image))") }
        var output = Data(count: Int(size))
        let written = output.withUnsafeMutableBytes { out in
            pixels.withUnsafeBytes { buffer in
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, buffer.baseAddress, stride, nil)
            }
        }
        guard written != 0 else { throw CodecError(description: "PNG encode: \(message(of: &image))") }
        return output.prefix(Int(size))
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
