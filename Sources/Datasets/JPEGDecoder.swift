import CTurboJPEG
import Foundation

/// JPEG decoding through the TurboJPEG API of libjpeg-turbo — the library Pillow's wheels
/// bundle — with the settings PIL uses: the accurate integer IDCT and fancy (smooth) chroma
/// upsampling. Libjpeg's warnings (premature end of data, corrupt entropy segments) stop the
/// decode and become errors: libjpeg would otherwise pad a truncated file with grey and report
/// success.
enum JPEGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws -> RGB8Image {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw DatasetError(file: source, "empty JPEG data")
        }
        guard let handle = tjInitDecompress() else { throw DatasetError(file: source, "libjpeg-turbo: cannot create a decoder") }
        defer { tjDestroy(handle) }

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        if tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace) != 0 {
            throw failure(handle, source, "bad JPEG header")
        }
        try ImageDecoder.checkSize(width: Int(width), height: Int(height), source: source)
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING
        let pixelCount = Int(width) * Int(height)

        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            var cmyk = [UInt8](repeating: 0, count: pixelCount * 4)
            let status = cmyk.withUnsafeMutableBufferPointer {
                tjDecompress2(handle, base, UInt(bytes.count), $0.baseAddress, width, 0, height, Int32(TJPF_CMYK.rawValue), flags)
            }
            if status != 0 { throw failure(handle, source, "corrupt JPEG data") }
            return RGB8Image(width: Int(width), height: Int(height), pixels: adobeCMYKToRGB(cmyk, pixelCount: pixelCount))
        }

        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        let status = rgb.withUnsafeMutableBufferPointer {
            tjDecompress2(handle, base, UInt(bytes.count), $0.baseAddress, width, 0, height, Int32(TJPF_RGB.rawValue), flags)
        }
        if status != 0 { throw failure(handle, source, "corrupt JPEG data") }
        return RGB8Image(width: Int(width), height: Int(height), pixels: rgb)
    }

    /// PIL reads every 4-component JPEG as inverted ("Adobe") CMYK and converts it with
    /// `cmyk2rgb`: R = (255 − K) − round((255 − C)(255 − K) / 255) on the inverted values.
    private static func adobeCMYKToRGB(_ stored: [UInt8], pixelCount: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        func mulDiv255(_ a: Int, _ b: Int) -> Int {
            let t = a * b + 128
            return ((t >> 8) + t) >> 8
        }
        for i in 0..<pixelCount {
            let k = 255 - Int(stored[4 * i + 3])
            let notK = 255 - k
            for c in 0..<3 {
                let ink = 255 - Int(stored[4 * i + c])
                rgb[3 * i + c] = UInt8(clamping: notK - mulDiv255(ink, notK))
            }
        }
        return rgb
    }

    private static func failure(_ handle: tjhandle, _ source: String, _ what: String) -> DatasetError {
        let detail = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
        return DatasetError(file: source, "\(what): libjpeg-turbo: \(detail)")
    }
}
