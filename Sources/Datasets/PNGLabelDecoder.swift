import CZlib
import Foundation

/// Decodes segmentation masks — palette PNGs (Pascal VOC's `SegmentationClass`) and 8-bit grey
/// PNGs (ADE20K's annotations) — to the stored index per pixel, as PIL's `np.array(Image.open(…))`
/// gives it. The RGB decoder cannot serve: it expands a palette to colours, losing the class.
///
/// A small reader of its own rather than libpng: libpng's simplified API (the only one safe to
/// call from Swift) rebuilds colour maps instead of returning the file's indices. Supported:
/// colour type 3 (palette, 1/2/4/8 bits) and 0 (grey, 8 bits), not interlaced; anything else
/// — RGB masks above all, where a class would be a colour — is an error naming the file.
enum PNGLabelDecoder {
    static func decode(_ data: Data, source: String) throws -> LabelMap {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, bytes.prefix(8).elementsEqual(PNGEssentialChunks.signature) else {
            throw DatasetError(file: source, "not a PNG file (bad signature)")
        }
        var offset = 8
        var header: (width: Int, height: Int, depth: Int, colour: Int, interlace: Int)?
        var compressed = Data()
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        chunks: while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= 0x7FFF_FFFF, offset + 12 + length <= bytes.count else {
                throw DatasetError(file: source, "truncated PNG: chunk \(type) at byte \(offset) runs past the end")
            }
            let body = offset + 8
            switch type {
            case "IHDR" where length >= 13:
                header = (be32(body), be32(body + 4), Int(bytes[body + 8]), Int(bytes[body + 9]), Int(bytes[body + 12]))
            case "IDAT": compressed.append(contentsOf: bytes[body..<(body + length)])
            case "IEND": break chunks
            default: break
            }
            offset += 12 + length
        }
        guard let h = header else { throw DatasetError(file: source, "corrupt PNG: no IHDR chunk") }
        switch (h.colour, h.depth) {
        case (3, 1), (3, 2), (3, 4), (3, 8), (0, 8): break
        default:
            throw DatasetError(file: source, "mask PNG has colour type \(h.colour) with \(h.depth)-bit samples; label maps must be palette (type 3) or 8-bit grey (type 0) PNGs that store the class index")
        }
        guard h.interlace == 0 else { throw DatasetError(file: source, "interlaced mask PNGs are not supported") }
        try ImageDecoder.checkSize(width: h.width, height: h.height, source: source)
        let rowBytes = (h.width * h.depth + 7) / 8
        let raw = [UInt8](try Gzip.decompress(compressed, source: source))
        guard raw.count >= h.height * (rowBytes + 1) else {
            throw DatasetError(file: source, "corrupt PNG: \(raw.count) bytes of image data, \(h.height * (rowBytes + 1)) needed")
        }
        let rows = try unfiltered(raw, rows: h.height, rowBytes: rowBytes, source: source)
        var labels = [UInt8](repeating: 0, count: h.width * h.height)
        let perByte = 8 / h.depth, mask = UInt8((1 << h.depth) - 1)
        for y in 0..<h.height {
            for x in 0..<h.width {
                let byte = rows[y * rowBytes + x / perByte]
                let shift = 8 - h.depth * (x % perByte + 1)   // the leftmost pixel sits in the high bits
                labels[y * h.width + x] = (byte >> UInt8(shift)) & mask
            }
        }
        return LabelMap(width: h.width, height: h.height, labels: labels)
    }

    /// Undoes PNG's per-row filters (one byte per pixel or less, so the filter unit is 1 byte).
    private static func unfiltered(_ raw: [UInt8], rows: Int, rowBytes: Int, source: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        for y in 0..<rows {
            let filter = raw[y * (rowBytes + 1)]
            let line = y * (rowBytes + 1) + 1, row = y * rowBytes
            for i in 0..<rowBytes {
                let left = i > 0 ? Int(out[row + i - 1]) : 0
                let up = y > 0 ? Int(out[row - rowBytes + i]) : 0
                let upLeft = y > 0 && i > 0 ? Int(out[row - rowBytes + i - 1]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4:
                    let p = left + up - upLeft, pa = abs(p - left), pb = abs(p - up), pc = abs(p - upLeft)
                    predictor = pa <= pb && pa <= pc ? left : (pb <= pc ? up : upLeft)
                default: throw DatasetError(file: source, "corrupt PNG: row \(y) has filter type \(filter)")
                }
                out[row + i] = UInt8(truncatingIfNeeded: Int(raw[line + i]) + predictor)
            }
        }
        return out
    }
}
