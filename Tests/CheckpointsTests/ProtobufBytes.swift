import Foundation

/// Protocol-buffer bytes written field by field, to build the ONNX files no exporter writes:
/// unpacked repeated fields, external data, lying lengths, absurd nesting. (The library's encoder,
/// `ProtobufMessage`, lives in the Training target, above Checkpoints.)
struct ProtobufBytes {
    var bytes = Data()

    static func varint(_ value: UInt64) -> Data {
        var value = value, out = Data()
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    /// A tag: field number and wire type (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit).
    mutating func tag(_ field: Int, _ wireType: Int) { bytes += Self.varint(UInt64(field) << 3 | UInt64(wireType)) }

    mutating func varint(_ field: Int, _ value: Int64) {
        tag(field, 0)
        bytes += Self.varint(UInt64(bitPattern: value))
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: Int, _ value: Data) {
        tag(field, 2)
        bytes += Self.varint(UInt64(value.count)) + value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    mutating func message(_ field: Int, _ value: ProtobufBytes) { bytes(field, value.bytes) }

    /// A model around `graph`: ir_version 8, opset 17, as exporters write it (fields in number order).
    static func model(graph: ProtobufBytes) -> Data {
        var model = ProtobufBytes(), opset = ProtobufBytes()
        model.varint(1, 8)
        model.message(7, graph)
        opset.varint(2, 17)
        model.message(8, opset)
        return model.bytes
    }

    /// A graph holding one initializer.
    static func graph(initializer: ProtobufBytes) -> ProtobufBytes {
        var graph = ProtobufBytes()
        graph.string(2, "g")
        graph.message(5, initializer)
        return graph
    }
}
