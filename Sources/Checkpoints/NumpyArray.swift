import Foundation
import Tensor

/// One numpy `.npy` array, converted to a Float tensor.
///
/// The format (numpy's `format.py`, versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a major and
/// minor version byte, a little-endian header length (2 bytes in 1.0, 4 bytes after), then a
/// Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with
/// spaces, then the raw elements. The header is parsed as a literal — never evaluated — and the
/// data must be exactly as long as the shape and dtype say. Fortran-order arrays are transposed
/// into the row-major order every tensor here uses.
public struct NumpyArray {
    public let tensor: Tensor
    /// numpy's dtype descriptor as the file writes it ("<f4", ">i8", "|b1", …).
    public let dtype: String

    /// Longer headers are refused (numpy's own reader refuses beyond 10,000 bytes by default).
    public static let maxHeaderBytes = 1 << 16

    /// Descriptors understood, without their byte-order character.
    static let kinds: [String: ElementEncoding.Kind] = [
        "f2": .float16, "f4": .float32, "f8": .float64,
        "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
        "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
    ]

    /// Parses a whole `.npy` file; `file` and `key` (the array's name inside an `.npz`) name it in errors.
    public init(parsing data: Data, file: String, key: String? = nil) throws {
        func fail(_ reason: String) -> TensorFileError { TensorFileError(file: file, key: key, reason) }
        guard data.bytes(at: 0, length: 6) == Data([0x93]) + Data("NUMPY".utf8) else { throw fail("not a .npy array (no \\x93NUMPY magic)") }
        guard data.count >= 8, data.littleEndian(UInt8.self, at: 7) == 0 else { throw fail("truncated or unknown .npy version") }
        let major = data.littleEndian(UInt8.self, at: 6)!
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            guard let length = data.littleEndian(UInt16.self, at: 8) else { throw fail("truncated .npy header length") }
            (headerLength, headerStart) = (Int(length), 10)
        case 2, 3:
            guard let length = data.littleEndian(UInt32.self, at: 8) else { throw fail("truncated .npy header length") }
            (headerLength, headerStart) = (Int(length), 12)
        default:
            throw fail("unsupported .npy version \(major).0")
        }
        guard headerLength <= Self.maxHeaderBytes else { throw fail("header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit") }
        guard let headerBytes = data.bytes(at: headerStart, length: headerLength) else {
            throw fail("header length \(headerLength) runs past the end of the file (\(data.count) bytes)")
        }
        // Versions 1 and 2 write the header in Latin-1, version 3 in UTF-8.
        guard let headerText = String(data: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("header is not text")
        }
        var parser = PythonLiteralParser(text: headerText)
        guard case .dict(let header)? = try? parser.parseWholeLiteral() else { throw fail("header is not a Python dict literal: \(headerText.prefix(120))") }

        guard case .string(let descr)? = header["descr"] else { throw fail("header has no string 'descr' (structured dtypes are not supported)") }
        guard case .bool(let fortranOrder)? = header["fortran_order"] else { throw fail("header has no boolean 'fortran_order'") }
        guard case .sequence(let dimensions)? = header["shape"] else { throw fail("header has no 'shape' tuple") }
        let shape = try dimensions.map { dimension -> Int in
            guard case .int(let n) = dimension, n >= 0 else { throw fail("invalid dimension in shape \(dimensions)") }
            return n
        }
        guard let encoding = Self.encoding(of: descr) else {
            throw fail("unsupported dtype '\(descr)' (supported: \(Self.kinds.keys.sorted().joined(separator: " ")) with < > or |)")
        }

        let dataStart = headerStart + headerLength, dataBytes = data.count - dataStart
        let layout = StridedLayout(shape: shape, columnMajor: fortranOrder)
        // The layout addresses exactly `count` elements, so the size check below also bounds it.
        let count = try layout.validatedCount(storageCount: .max, maxElements: dataBytes, fail: fail)
        guard count * encoding.byteCount == dataBytes else {
            throw fail("shape \(shape) of \(descr) needs \(count * encoding.byteCount) data bytes, the file has \(dataBytes)")
        }
        tensor = data.withUnsafeBytes { layout.gather(from: $0.baseAddress! + dataStart, encoding: encoding) }
        dtype = descr
    }

    /// "<f4" → little-endian float32; "|" marks single-byte types, which have no byte order.
    static func encoding(of descr: String) -> ElementEncoding? {
        guard let order = descr.first, let kind = kinds[String(descr.dropFirst())] else { return nil }
        let encoding = ElementEncoding(kind, bigEndian: order == ">")
        switch order {
        case "<", ">": return encoding
        case "|": return encoding.byteCount == 1 ? encoding : nil
        default: return nil
        }
    }
}
