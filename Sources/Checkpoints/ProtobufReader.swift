import Foundation
import Tensor

/// The protocol-buffer wire format, decoding side, for untrusted files (the ONNX reader): a
/// cursor over one message's bytes that yields each field's number and wire type, then its value.
/// Every length is checked against the bytes left in the enclosing message, varints longer than
/// ten bytes (or past 64 bits) are refused, unknown fields are skipped without recursion, and a
/// sub-message reader is refused beyond `maxDepth` — so a hostile file ends in a
/// `TensorFileError` naming the file and the message path, never a trap or a deep stack.
///
/// Messages are read schema-by-caller: the caller knows which field numbers it wants and asks
/// for the value with the matching accessor; `expect` turns a wire-type mismatch into an error.
public struct ProtobufReader {
    public enum WireType: UInt64, CustomStringConvertible {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5

        public var description: String {
            switch self {
            case .varint: "varint"
            case .fixed64: "64-bit"
            case .lengthDelimited: "length-delimited"
            case .fixed32: "32-bit"
            }
        }
    }

    /// Sub-messages nested deeper than this are refused.
    public static let maxDepth = 32

    private let data: Data  // indexed from 0
    private let end: Int
    public private(set) var position: Int
    public let depth: Int
    /// The file, for errors.
    public let file: String
    /// Where this message sits ("ModelProto.graph.initializer"), for errors.
    public let path: String

    /// A reader over a whole file holding one message named `path` (e.g. "ModelProto").
    public init(_ data: Data, file: String, path: String) {
        self.init(data: data.startIndex == 0 ? data : Data(data), range: 0 ..< data.count, depth: 0, file: file, path: path)
    }

    private init(data: Data, range: Range<Int>, depth: Int, file: String, path: String) {
        self.data = data
        self.position = range.lowerBound
        self.end = range.upperBound
        self.depth = depth
        self.file = file
        self.path = path
    }

    public var isAtEnd: Bool { position >= end }

    public func error(_ reason: String, key: String? = nil) -> TensorFileError {
        TensorFileError(file: file, key: key, "\(path): \(reason)")
    }

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func nextField() throws -> (number: Int, wireType: WireType)? {
        guard !isAtEnd else { return nil }
        let start = position
        let tag = try varint()
        let number = tag >> 3
        guard number > 0 && number < 1 << 29 else { throw error("invalid field number \(number) at byte \(start)") }
        guard let wireType = WireType(rawValue: tag & 7) else {
            // 3 and 4 are proto2's deprecated groups, which ONNX never uses; 6 and 7 do not exist.
            throw error("unsupported wire type \(tag & 7) for field \(number) at byte \(start)")
        }
        return (Int(number), wireType)
    }

    /// Throws unless field `number` arrived with the wire type its schema gives.
    public func expect(_ actual: WireType, _ wanted: WireType, field number: Int) throws {
        guard actual == wanted else { throw error("field \(number) is \(actual), its schema says \(wanted)") }
    }

    /// Unsigned LEB128: at most ten bytes, and the tenth may only carry the 64th bit.
    public mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<10 {
            guard position < end else { throw error("truncated varint at byte \(position)") }
            let byte = data[position]
            position += 1
            if index == 9 && byte > 1 { throw error("varint longer than 64 bits at byte \(position - 10)") }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte < 0x80 { return value }
        }
        throw error("varint longer than ten bytes at byte \(position - 10)")
    }

    public mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4, let value = data.littleEndian(UInt32.self, at: position) else {
            throw error("truncated 32-bit value at byte \(position)")
        }
        position += 4
        return value
    }

    public mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8, let value = data.littleEndian(UInt64.self, at: position) else {
            throw error("truncated 64-bit value at byte \(position)")
        }
        position += 8
        return value
    }

    /// The byte range of a length-delimited value, checked against the rest of this message.
    private mutating func lengthDelimitedRange() throws -> Range<Int> {
        let start = position
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw error("length \(length) at byte \(start) runs past the end of the message (\(end - position) bytes left)")
        }
        defer { position += Int(length) }
        return position ..< position + Int(length)
    }

    public mutating func bytes() throws -> Data {
        let range = try lengthDelimitedRange()
        return data.subdata(in: range)
    }

    /// A string field; invalid UTF-8 is an error rather than a silently repaired name.
    public mutating func string() throws -> String {
        let range = try lengthDelimitedRange()
        guard let text = String(data: data.subdata(in: range), encoding: .utf8) else {
            throw error("string at byte \(range.lowerBound) is not UTF-8")
        }
        return text
    }

    /// A reader over an embedded message, named `field` in errors.
    public mutating func message(_ field: String) throws -> ProtobufReader {
        guard depth < Self.maxDepth else { throw error("messages nested deeper than \(Self.maxDepth) levels") }
        return ProtobufReader(data: data, range: try lengthDelimitedRange(), depth: depth + 1, file: file, path: path + "." + field)
    }

    /// Skips a field's value of any wire type (unknown fields).
    public mutating func skip(_ wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimitedRange()
        }
    }

    // MARK: Repeated scalars

    /// Appends a repeated scalar field's values: packed (one length-delimited run, proto3's and
    /// ONNX's default) or one element per field (what a proto2 writer without `packed` emits).
    /// Each element takes at least one byte of the file, so `values` stays bounded by its size.
    public mutating func appendRepeated<T>(_ wireType: WireType, element: WireType, field number: Int,
                                           to values: inout [T], _ read: (inout ProtobufReader) throws -> T) throws {
        if wireType == .lengthDelimited {
            var packed = ProtobufReader(data: data, range: try lengthDelimitedRange(), depth: depth, file: file, path: path)
            while !packed.isAtEnd { values.append(try read(&packed)) }
        } else {
            try expect(wireType, element, field: number)
            values.append(try read(&self))
        }
    }
}
