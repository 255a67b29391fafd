import CPNG

/// PNG decoding through libpng's simplified API (`png_image_*`), which reports errors as a
/// return code and a message instead of `longjmp` — the only libpng entry point that is safe to
/// call from Swift, where a `longjmp` over Swift frames is undefined behaviour.
///
/// Matches PIL's `convert("RGB")`: palette and grey expanded, alpha and tRNS transparency
/// dropped without compositing, 16-bit samples reduced to their high byte. Two documented
/// differences: 16-bit files *with* alpha are reduced by libpng's rounding (v·255/65535, at most
/// one level from PIL's high byte) because the simplified API premultiplies linear 16-bit
/// alpha output; and 16-bit grey keeps its high byte where PIL clips the value at 255 (which
/// turns nearly every pixel white).
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws -> RGB8Image {
        let stream = try PNGEssentialChunks.filter(bytes, source: source)
        return try stream.withUnsafeBytes { memory -> RGB8Image in
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, memory.baseAddress, memory.count) != 0 else {
                throw failure(&image, source)
            }
            let width = Int(image.width), height = Int(image.height)
            do {
                try ImageDecoder.checkSize(width: width, height: height, source: source)
            } catch {
                png_image_free(&image)
                throw error
            }
            let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
            let sixteenBit = image.format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
            let pixelCount = width * height

            if sixteenBit && !hasAlpha {
                // Linear in, linear out: libpng passes the 16-bit samples through untouched.
                image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_LINEAR)
                var wide = [UInt16](repeating: 0, count: pixelCount * 3)
                let ok = wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
                try check(ok, &image, source)
                return RGB8Image(width: width, height: height, pixels: wide.map { UInt8(truncatingIfNeeded: $0 >> 8) })
            }

            if sixteenBit { image.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB) }   // no gamma change on the way to 8 bits
            let channels = hasAlpha ? 4 : 3
            image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | (hasAlpha ? PNG_FORMAT_FLAG_ALPHA : 0))
            var samples = [UInt8](repeating: 0, count: pixelCount * channels)
            let ok = samples.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            try check(ok, &image, source)
            guard hasAlpha else { return RGB8Image(width: width, height: height, pixels: samples) }
            var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
            for i in 0..<pixelCount {
                rgb[3 * i] = samples[4 * i]
                rgb[3 * i + 1] = samples[4 * i + 1]
                rgb[3 * i + 2] = samples[4 * i + 2]
            }
            return RGB8Image(width: width, height: height, pixels: rgb)
        }
    }

    /// libpng frees the image itself when a call fails; a warning on a successful call still
    /// means damaged image data (the ancillary chunks that warn harmlessly were removed).
    private static func check(_ status: Int32, _ image: inout png_image, _ source: String) throws {
        if status == 0 || image.warning_or_error != 0 { throw failure(&image, source) }
    }

    private static func failure(_ image: inout png_image, _ source: String) -> DatasetError {
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return DatasetError(file: source, "corrupt PNG: libpng: \(message.isEmpty ? "unknown error" : message)")
    }
}
