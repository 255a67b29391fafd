import CTurboJPEG
import Foundation

/// JPEG encoding through libjpeg-turbo's TurboJPEG API (the library the decoder uses), for
/// writing extracted video frames as the `img_00001.jpg` rawframe layout. 4:2:0 chroma and the
/// accurate integer DCT: what OpenCV's and FFmpeg's frame dumps write by default.
public enum JPEGEncoder {
    /// `quality` 1…100 (libjpeg's scale; 95 keeps frames visually lossless at small sizes).
    public static func encode(_ image: RGB8Image, quality: Int = 95) throws -> Data {
        guard (1...100).contains(quality) else {
            throw DatasetError(file: "<jpeg encoder>", "quality \(quality) is not in 1…100")
        }
        guard let handle = tjInitCompress() else { throw DatasetError(file: "<jpeg encoder>", "libjpeg-turbo: cannot create an encoder") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { if let output { tjFree(output) } }
        let status = image.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        guard status == 0, let output else {
            let detail = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
            throw DatasetError(file: "<jpeg encoder>", "libjpeg-turbo: \(detail)")
        }
        return Data(bytes: output, count: Int(size))
    }
}
