import CTurboJPEG
import Foundation

/// An image's format and size read from its header alone (no pixel decoding), for summaries.
struct ImageHeader {
    let format: ImageFormat
    let width: Int
    let height: Int

    static func read(_ url: URL) -> ImageHeader? {
        guard let data = try? ImageDecoder.readFile(url) else { return nil }
        return data.withUnsafeBytes { bytes -> ImageHeader? in
            switch ImageFormat.sniff(bytes) {
            case .png:
                // IHDR is the first chunk: width and height at bytes 16..<24, big-endian.
                guard bytes.count >= 24 else { return nil }
                func be32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }
                return ImageHeader(format: .png, width: be32(16), height: be32(20))
            case .jpeg:
                guard let handle = tjInitDecompress() else { return nil }
                defer { tjDestroy(handle) }
                var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
                let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
                guard tjDecompressHeader3(handle, base, UInt(bytes.count), &w, &h, &subsampling, &colorspace) == 0 else { return nil }
                return ImageHeader(format: .jpeg, width: Int(w), height: Int(h))
            case nil:
                return nil
            }
        }
    }
}
