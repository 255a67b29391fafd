import CPNG
import Foundation

/// Writes 8-bit grey or RGB PNGs through libpng's simplified API (error codes, no `longjmp`),
/// used when importing datasets (e.g. IDX digits become 28×28 grey PNGs) and by tests that
/// build datasets on disk.
public enum PNGEncoder {
    public static func encode(_ image: RGB8Image) throws -> Data {
        try encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3)
    }

    /// One byte per pixel, row-major.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> Data {
        try encode(pixels: pixels, width: width, height: height, channels: 1)
    }

    private static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int) throws -> Data {
        guard width > 0, height > 0, pixels.count == width * height * channels else {
            throw DatasetError(file: "<png encoder>", "\(pixels.count) bytes for a \(width)×\(height) image with \(channels) channels")
        }
        func attempt(capacity: Int) -> (Data?, Int, String) {
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            image.width = png_uint_32(width)
            image.height = png_uint_32(height)
            image.format = png_uint_32(channels == 3 ? PNG_FORMAT_FLAG_COLOR : 0)
            var output = Data(count: capacity)
            var size = capacity
            let ok = output.withUnsafeMutableBytes { out in
                pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
            }
            let message = withUnsafeBytes(of: &image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard ok != 0 else { return (nil, size, message) }
            return (Data(output.prefix(size)), size, message)
        }
        // Raw size plus filter bytes and zlib/chunk overhead always suffices; libpng reports the
        // exact need otherwise, and the second attempt uses it.
        let estimate = pixels.count + height + pixels.count / 64 + 1024
        var (data, needed, message) = attempt(capacity: estimate)
        if data == nil, needed > estimate { (data, needed, message) = attempt(capacity: needed) }
        guard let encoded = data else { throw DatasetError(file: "<png encoder>", "libpng: \(message)") }
        return encoded
    }
}
