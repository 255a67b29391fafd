import CZlib
import Foundation

/// gzip (and zlib) decompression through zlib's `inflate`, for `.gz` IDX files. Multi-member
/// gzip files are concatenated, as `gunzip` does. Truncated or corrupt streams are errors.
enum Gzip {
    /// Refuse to inflate beyond this (a decompression bomb guard; Fashion-MNIST's largest
    /// file inflates to 47 MB).
    static let maxOutputBytes = 1 << 31

    static func isCompressed(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    static func decompress(_ data: Data, source: String) throws -> Data {
        var output = Data()
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError(file: source, "zlib: cannot initialise inflate")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let base = input.bindMemory(to: Bytef.self).baseAddress else { throw DatasetError(file: source, "empty gzip file") }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= maxOutputBytes else {
                    throw DatasetError(file: source, "gzip data inflates beyond \(maxOutputBytes) bytes")
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    // Another gzip member may follow; trailing zero padding is tolerated as gzip does.
                    let rest = Int(stream.avail_in)
                    if rest == 0 { return }
                    let next = input.count - rest
                    if rest >= 2, input[next] == 0x1F, input[next + 1] == 0x8B {
                        guard inflateReset(&stream) == Z_OK else { throw DatasetError(file: source, "zlib: cannot reset inflate") }
                        continue
                    }
                    if input[next...].allSatisfy({ $0 == 0 }) { return }
                    throw DatasetError(file: source, "\(rest) bytes of garbage after the gzip data")
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DatasetError(file: source, "truncated gzip data (the stream ends early)")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DatasetError(file: source, "corrupt gzip data: zlib: \(message)")
                }
            }
        }
        return output
    }
}
