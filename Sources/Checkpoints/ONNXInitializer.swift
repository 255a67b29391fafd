import Foundation
import Tensor

/// One initializer of an ONNX graph (a `TensorProto`), decoded to Float like every tensor this
/// target reads.
///
/// Values come from `raw_data` (little-endian, whatever the host) or from the typed field
/// onnx.proto assigns to the data type: `float_data` for FLOAT, `double_data` for DOUBLE,
/// `int64_data` for INT64, and `int32_data` for every narrower type (FLOAT16 and BFLOAT16 as bit
/// patterns in the low 16 bits). Either way the element count must equal the product of `dims`.
/// Data kept outside the file (`data_location` = EXTERNAL) and other data types (strings,
/// complex, 8-bit floats, 4-bit integers, unsigned 32/64-bit) are errors naming the tensor.
public struct ONNXInitializer {
    public var name: String
    public var tensor: Tensor
    /// The stored element type in safetensors' names ("F32", "F16", "I64", …), as the other readers report it.
    public var dtype: String
    /// INT64 and INT32 initializers exactly: they are shapes, axes and slice bounds, where Float
    /// would round (INT64_MAX, "slice to the end", becomes 2^63) and a mapper needs integers.
    /// `tensor` holds the same values as Float so that every initializer can be listed and converted.
    public var integers: [Int64]?

    /// ONNX `TensorProto.DataType` codes read here, with the element encoding of `raw_data` and the dtype name.
    static let dataTypes: [Int64: (kind: ElementEncoding.Kind, dtype: String)] = [
        1: (.float32, "F32"), 2: (.uint8, "U8"), 3: (.int8, "I8"), 4: (.uint16, "U16"), 5: (.int16, "I16"),
        6: (.int32, "I32"), 7: (.int64, "I64"), 9: (.bool, "BOOL"), 10: (.float16, "F16"), 11: (.float64, "F64"),
        16: (.bfloat16, "BF16"),
    ]
    /// Names of the codes refused, for the error message.
    static let unsupportedNames: [Int64: String] = [
        0: "UNDEFINED", 8: "STRING", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128",
    ]

    /// Reads a `TensorProto`: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8,
    /// raw_data 9, double_data 10, external_data 13, data_location 14 (onnx.proto); others skipped.
    init(reading reader: inout ProtobufReader) throws {
        var dims: [Int64] = [], dataType: Int64 = 0, name = "", dataLocation: UInt64 = 0
        var floats: [Float] = [], int32s: [Int64] = [], int64s: [Int64] = [], doubles: [Double] = []
        var raw: Data?, externalLocation: String?
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1: try reader.appendRepeated(wireType, element: .varint, field: field, to: &dims) { Int64(bitPattern: try $0.varint()) }
            case 2:
                try reader.expect(wireType, .varint, field: field)
                dataType = Int64(bitPattern: try reader.varint())
            case 4: try reader.appendRepeated(wireType, element: .fixed32, field: field, to: &floats) { Float(bitPattern: try $0.fixed32()) }
            // int32 fields are written as 64-bit varints (negatives take ten bytes); keep the low 32 bits, signed.
            case 5: try reader.appendRepeated(wireType, element: .varint, field: field, to: &int32s) { Int64(Int32(truncatingIfNeeded: try $0.varint())) }
            case 7: try reader.appendRepeated(wireType, element: .varint, field: field, to: &int64s) { Int64(bitPattern: try $0.varint()) }
            case 8:
                try reader.expect(wireType, .lengthDelimited, field: field)
                name = try reader.string()
            case 9:
                try reader.expect(wireType, .lengthDelimited, field: field)
                raw = try reader.bytes()
            case 10: try reader.appendRepeated(wireType, element: .fixed64, field: field, to: &doubles) { Double(bitPattern: try $0.fixed64()) }
            case 13:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var entry = try reader.message("external_data")
                let (key, value) = try Self.stringPair(&entry)
                if key == "location" { externalLocation = value }
            case 14:
                try reader.expect(wireType, .varint, field: field)
                dataLocation = try reader.varint()
            default:
                try reader.skip(wireType)
            }
        }
        func fail(_ reason: String) -> TensorFileError { reader.error(reason, key: name) }

        if dataLocation == 1 {
            throw fail("data is stored outside the .onnx file (external data\(externalLocation.map { " in '\($0)'" } ?? "")); "
                + "only self-contained files are read — save the model with onnx.save(model, path, save_as_external_data=False)")
        }
        guard dataLocation == 0 else { throw fail("unknown data_location \(dataLocation)") }
        guard let (kind, dtype) = Self.dataTypes[dataType] else {
            throw fail("ONNX data type \(dataType)\(Self.unsupportedNames[dataType].map { " (\($0))" } ?? "") is not supported "
                + "(supported: FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32, INT16, INT8, UINT16, UINT8, BOOL)")
        }
        var shape: [Int] = [], count = 1
        for dim in dims {
            // Checked so that Shape.count can never overflow on this shape later.
            guard dim >= 0, case let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim)), !overflow else {
                throw fail("invalid shape \(dims)")
            }
            shape.append(Int(dim))
            count = product
        }
        let encoding = ElementEncoding(kind)

        if let raw {
            guard floats.isEmpty && int32s.isEmpty && int64s.isEmpty && doubles.isEmpty else {
                throw fail("holds both raw_data and typed values")
            }
            guard raw.count % encoding.byteCount == 0 && raw.count / encoding.byteCount == count else {
                throw fail("shape \(shape) of \(dtype) needs \(count) elements, raw_data holds \(raw.count) bytes")
            }
            let target = Tensor(uninitializedShape: shape)
            raw.withUnsafeBytes { bytes in
                if count > 0 { encoding.convert(bytes.baseAddress!, byteStride: encoding.byteCount, count: count, into: target.data) }
            }
            tensor = target
            switch kind {
            case .int64: integers = (0..<count).map { Int64(bitPattern: raw.littleEndian(UInt64.self, at: 8 * $0)!) }
            case .int32: integers = (0..<count).map { Int64(Int32(bitPattern: raw.littleEndian(UInt32.self, at: 4 * $0)!)) }
            default: integers = nil
            }
        } else {
            let values: [Float]
            switch kind {
            case .float32: values = floats
            case .float64: values = doubles.map { Float($0) }
            case .int64: values = int64s.map { Float($0) }
            case .float16: values = int32s.map { SafeTensors.halfToFloat(UInt16(truncatingIfNeeded: $0)) }
            case .bfloat16: values = int32s.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) }
            default: values = int32s.map { Float($0) }
            }
            let present = [floats.count, int32s.count, int64s.count, doubles.count].reduce(0, +)
            guard values.count == count && present == count else {
                throw fail("shape \(shape) of \(dtype) needs \(count) elements, the typed fields hold \(present)"
                    + (present == values.count ? "" : " (in fields that \(dtype) does not use)"))
            }
            // Not Tensor(shape:_:), which needs a non-empty array's base address.
            tensor = Tensor(uninitializedShape: shape)
            for (i, value) in values.enumerated() { tensor.data[i] = value }
            switch kind {
            case .int64: integers = int64s
            case .int32: integers = int32s
            default: integers = nil
            }
        }
        self.name = name
        self.dtype = dtype
    }

    /// A `StringStringEntryProto`: key 1, value 2.
    private static func stringPair(_ reader: inout ProtobufReader) throws -> (String, String) {
        var key = "", value = ""
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1, 2:
                try reader.expect(wireType, .lengthDelimited, field: field)
                if field == 1 { key = try reader.string() } else { value = try reader.string() }
            default:
                try reader.skip(wireType)
            }
        }
        return (key, value)
    }
}
