/// A node attribute (`AttributeProto`) of the scalar and list kinds that layer hyper-parameters
/// use (strides, pads, epsilon, a Resize mode), and the small integer tensors that `Constant`
/// nodes hold (the shapes a Reshape splits heads with: `[6]`, `[64]`). Other tensor attributes,
/// graph and sparse attributes (a float Constant, an If's branches) are not read: the reader
/// never runs a graph, and they can be large.
public enum ONNXAttribute: Equatable, Sendable {
    case float(Float)
    case int(Int64)
    case string(String)
    case floats([Float])
    case ints([Int64])
    /// An INT64 or INT32 tensor of at most `maxIntegerTensorCount` elements, flattened.
    case integerTensor([Int64])

    static let maxIntegerTensorCount = 64

    /// Reads an `AttributeProto`: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20 (onnx.proto).
    /// Returns nil for the kinds not read. The type decides which field is the value, since a
    /// proto2 writer also writes fields at their zero default.
    static func read(_ reader: inout ProtobufReader) throws -> (name: String, value: ONNXAttribute)? {
        var name = "", type: UInt64?, f: Float?, i: Int64?, s: String?, floats: [Float] = [], ints: [Int64] = []
        var tensorIntegers: [Int64]?
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1:
                try reader.expect(wireType, .lengthDelimited, field: field)
                name = try reader.string()
            case 2:
                try reader.expect(wireType, .fixed32, field: field)
                f = Float(bitPattern: try reader.fixed32())
            case 3:
                try reader.expect(wireType, .varint, field: field)
                i = Int64(bitPattern: try reader.varint())
            case 4:
                try reader.expect(wireType, .lengthDelimited, field: field)
                s = try reader.string()
            case 5:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var tensor = try reader.message("attribute tensor")
                // A tensor of a kind the initializer reader refuses (strings, say) is skipped like
                // any other attribute this reader does not use, not an error for the whole file.
                tensorIntegers = (try? ONNXInitializer(reading: &tensor))?.integers
            case 7: try reader.appendRepeated(wireType, element: .fixed32, field: field, to: &floats) { Float(bitPattern: try $0.fixed32()) }
            case 8: try reader.appendRepeated(wireType, element: .varint, field: field, to: &ints) { Int64(bitPattern: try $0.varint()) }
            case 20:
                try reader.expect(wireType, .varint, field: field)
                type = try reader.varint()
            default:
                try reader.skip(wireType)
            }
        }
        // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7; files before IR 3 have no type.
        let value: ONNXAttribute?
        switch type {
        case 1: value = f.map { .float($0) }
        case 2: value = i.map { .int($0) }
        case 3: value = s.map { .string($0) }
        case 4: value = tensorIntegers.flatMap { $0.count <= maxIntegerTensorCount ? .integerTensor($0) : nil }
        case 6: value = .floats(floats)
        case 7: value = .ints(ints)
        case nil: value = f.map { .float($0) } ?? i.map { .int($0) } ?? s.map { .string($0) }
            ?? (!ints.isEmpty ? .ints(ints) : !floats.isEmpty ? .floats(floats) : nil)
        default: value = nil
        }
        return value.map { (name, $0) }
    }
}
