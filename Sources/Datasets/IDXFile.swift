import Foundation

/// An IDX array (the MNIST family's format): big-endian header `0 0 type ndims`, `ndims`
/// 32-bit sizes, then the elements. Only unsigned bytes (type 0x08) are read — what image and
/// label files of MNIST, Fashion-MNIST, KMNIST and EMNIST hold. `.gz` files (gzip magic, not
/// the name) are inflated first.
public struct IDXFile: Sendable {
    public let dimensions: [Int]
    public let bytes: [UInt8]

    public init(contentsOf url: URL) throws {
        try self.init(fileContents: try ImageDecoder.readFile(url), source: url.path)
    }

    /// A file's bytes, gzip-compressed or not; `source` names it in errors.
    public init(fileContents: Data, source: String) throws {
        let data = Gzip.isCompressed(fileContents) ? try Gzip.decompress(fileContents, source: source) : fileContents
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else { throw DatasetError(file: source, "not an IDX file: \(bytes.count) bytes, shorter than the 4-byte magic") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError(file: source, String(format: "not an IDX file: magic starts %02x %02x (expected 00 00)", bytes[0], bytes[1]))
        }
        guard bytes[2] == 0x08 else {
            throw DatasetError(file: source, String(format: "IDX element type 0x%02x is not supported (only 0x08, unsigned bytes)", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw DatasetError(file: source, "IDX header declares \(rank) dimensions but the file has \(bytes.count) bytes")
        }
        var dimensions: [Int] = []
        var elements = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dimensions.append(size)
            elements = elements.multipliedReportingOverflow(by: size).overflow ? Int.max : elements * size
        }
        let payload = bytes.count - 4 - 4 * rank
        guard elements == payload else {
            throw DatasetError(file: source, "IDX dimensions \(dimensions) need \(elements == Int.max ? "too many" : "\(elements)") bytes of data, the file has \(payload)\(payload < elements ? " (truncated)" : "")")
        }
        self.dimensions = dimensions
        self.bytes = Array(bytes[(4 + 4 * rank)...])
    }
}
