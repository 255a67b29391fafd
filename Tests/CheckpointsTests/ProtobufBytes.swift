import Checkpoints
import Foundation

/// Protocol-buffer bytes written field by field, to build the ONNX files no exporter writes:
/// unpacked repeated fields, external data, lying lengths, absurd nesting. Well-formed fields go
/// through the library's encoder (`ProtobufMessage`); `tag` and raw `bytes` appends are here for
/// what no encoder would write.
struct ProtobufBytes {
    var bytes = Data()

    static func varint(_ value: UInt64) -> Data { Data(ProtobufMessage.varint(value)) }

    /// A bare tag of any wire type (0 varint, 1 64-bit, 2 length-delimited, 3 group, 5 32-bit).
    mutating func tag(_ field: Int, _ wireType: Int) { bytes += Self.varint(UInt64(field) << 3 | UInt64(wireType)) }

    mutating func varint(_ field: Int, _ value: Int64) { append { $0.signed(field, value) } }

    mutating func fixed32(_ field: Int, _ value: UInt32) { append { $0.float(field, Float(bitPattern: value)) } }

    mutating func fixed64(_ field: Int, _ value: UInt64) { append { $0.double(field, Double(bitPattern: value)) } }

    mutating func bytes(_ field: Int, _ value: Data) { append { $0.byteString(field, Array(value)) } }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    mutating func message(_ field: Int, _ value: ProtobufBytes) { bytes(field, value.bytes) }

    private mutating func append(_ field: (inout ProtobufMessage) -> Void) {
        var message = ProtobufMessage()
        field(&message)
        bytes += Data(message.bytes)
    }

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
