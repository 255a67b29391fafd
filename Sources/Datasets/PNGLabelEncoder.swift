import CZlib
import Foundation

/// Writes a label map as an 8-bit palette PNG (the form of Pascal VOC's masks): pixel values are
/// the class indices, the palette only colours them for viewers. Used for predicted masks and
/// by tests that build segmentation datasets on disk.
public enum PNGLabelEncoder {
    /// `palette`: RGB triples for indices 0…; Pascal VOC's colour map by default.
    public static func encode(_ map: LabelMap, palette: [UInt8] = vocPalette) throws -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity(map.height * (map.width + 1))
        for y in 0..<map.height {
            raw.append(0)  // filter: none
            raw.append(contentsOf: map.labels[(y * map.width)..<((y + 1) * map.width)])
        }
        var size = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(size))
        guard compress(&compressed, &size, raw, uLong(raw.count)) == Z_OK else {
            throw DatasetError(file: "<png label encoder>", "zlib could not compress \(raw.count) bytes")
        }
        var png = Data(PNGEssentialChunks.signature)
        func chunk(_ type: String, _ body: [UInt8]) {
            let typed = Array(type.utf8) + body
            png.append(contentsOf: bigEndian(UInt32(body.count)))
            png.append(contentsOf: typed)
            png.append(contentsOf: bigEndian(UInt32(crc32(0, typed, uInt(typed.count)))))
        }
        chunk("IHDR", bigEndian(UInt32(map.width)) + bigEndian(UInt32(map.height)) + [8, 3, 0, 0, 0])
        chunk("PLTE", Array(palette.prefix(768)))
        chunk("IDAT", Array(compressed.prefix(Int(size))))
        chunk("IEND", [])
        return png
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// Pascal VOC's colour map (`VOCdevkit`'s `labelcolormap`: bits of the index spread over
    /// R, G, B from the high bit down), 256 entries; 255 (ignore) is (224, 224, 192).
    public static let vocPalette: [UInt8] = (0..<256).flatMap { index -> [UInt8] in
        var (r, g, b, c) = (0, 0, 0, index)
        for j in 0..<8 {
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return [UInt8(r), UInt8(g), UInt8(b)]
    }
}
