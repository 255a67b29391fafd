/// The protocol-buffer wire format, encoding side (`ProtobufReader` is the decoding side): each
/// call appends one field as its tag (field number and wire type, a varint) and its value. Which
/// fields to leave out (proto3 omits scalars at their default unless they belong to a oneof) is
/// the caller's decision, so that output can equal a reference serializer's byte for byte
/// (TensorBoard's event files are written with it).
public struct ProtobufMessage: Equatable, Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    enum WireType: UInt64 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    /// Unsigned LEB128: seven bits a byte, least significant first, high bit set on all but the last.
    public static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    private mutating func tag(_ field: Int, _ type: WireType) {
        precondition(field > 0 && field < 1 << 29, "protobuf field numbers are 1 … 2^29 − 1")
        bytes += Self.varint(UInt64(field) << 3 | type.rawValue)
    }

    /// uint32/uint64/enum fields.
    public mutating func unsigned(_ field: Int, _ value: UInt64) {
        tag(field, .varint)
        bytes += Self.varint(value)
    }

    /// int32/int64 fields: two's complement as a 64-bit varint (a negative value takes ten bytes).
    public mutating func signed(_ field: Int, _ value: Int64) {
        unsigned(field, UInt64(bitPattern: value))
    }

    public mutating func bool(_ field: Int, _ value: Bool) {
        unsigned(field, value ? 1 : 0)
    }

    /// double fields: IEEE 754 binary64, little-endian.
    public mutating func double(_ field: Int, _ value: Double) {
        tag(field, .fixed64)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    /// float fields: IEEE 754 binary32, little-endian.
    public mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    /// bytes fields.
    public mutating func byteString(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        bytes += Self.varint(UInt64(value.count))
        bytes += value
    }

    public mutating func string(_ field: Int, _ value: String) {
        byteString(field, Array(value.utf8))
    }

    /// An embedded message (also a map entry: a message with key = 1 and value = 2).
    public mutating func message(_ field: Int, _ value: ProtobufMessage) {
        byteString(field, value.bytes)
    }
}
