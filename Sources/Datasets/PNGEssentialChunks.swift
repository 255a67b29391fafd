/// Rewrites a PNG stream keeping only the chunks that define pixels — IHDR, PLTE, tRNS, IDAT,
/// IEND and any unknown *critical* chunk (so libpng can refuse it) — byte for byte, CRCs
/// included.
///
/// Why: PIL ignores colour-management chunks (gAMA, cHRM, sRGB, iCCP), but libpng's simplified
/// API honours them and would gamma-correct the pixels; dropping them makes our decode equal
/// PIL's. Dropping the other ancillary chunks (text, time, APNG frames, …) means any warning
/// libpng still raises concerns the image data, so it can safely be treated as an error.
enum PNGEssentialChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    private static let kept: Set<String> = ["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]

    static func filter(_ bytes: UnsafeRawBufferPointer, source: String) throws -> [UInt8] {
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(signature) else {
            throw DatasetError(file: source, "not a PNG file (bad signature)")
        }
        var output = signature
        output.reserveCapacity(bytes.count)
        var offset = 8
        var sawIEND = false
        while !sawIEND {
            guard offset + 8 <= bytes.count else {
                throw DatasetError(file: source, "truncated PNG: no IEND chunk (data ends at byte \(bytes.count))")
            }
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let typeBytes = Array(bytes[(offset + 4)..<(offset + 8)])
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
                throw DatasetError(file: source, "corrupt PNG: invalid chunk type at byte \(offset + 4)")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= 0x7FFF_FFFF, offset + 12 + length <= bytes.count else {
                throw DatasetError(file: source, "truncated PNG: chunk \(type) at byte \(offset) needs \(length) bytes of data, the file ends at byte \(bytes.count)")
            }
            let isCritical = typeBytes[0] < 0x61
            if kept.contains(type) || isCritical {
                output.append(contentsOf: bytes[offset..<(offset + 12 + length)])
            }
            sawIEND = type == "IEND"
            offset += 12 + length
        }
        return output
    }
}
