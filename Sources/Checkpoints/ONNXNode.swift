/// One operator of an ONNX graph (`NodeProto`): what a model mapper needs to name the anonymous
/// initializers a node consumes, and the scalar / list attributes that hold layer hyper-parameters
/// (`ONNXAttribute`). Domain and doc strings are skipped.
public struct ONNXNode: Equatable, Sendable {
    /// Exporters name nodes after the module path ("/encoder/layer.0/attention/key/MatMul");
    /// the name is optional in ONNX and may be empty.
    public var name: String
    public var opType: String
    /// Value names; an empty string marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    /// By attribute name; tensor- and graph-valued attributes are left out.
    public var attributes: [String: ONNXAttribute] = [:]

    public init(name: String, opType: String, inputs: [String], outputs: [String]) {
        self.name = name
        self.opType = opType
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Reads a `NodeProto`: input 1, output 2, name 3, op_type 4, attribute 5 (onnx.proto).
    init(reading reader: inout ProtobufReader) throws {
        self.init(name: "", opType: "", inputs: [], outputs: [])
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 5:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var attribute = try reader.message("attribute")
                if let (name, value) = try ONNXAttribute.read(&attribute) { attributes[name] = value }
            case 1, 2, 3, 4:
                try reader.expect(wireType, .lengthDelimited, field: field)
                let text = try reader.string()
                switch field {
                case 1: inputs.append(text)
                case 2: outputs.append(text)
                case 3: name = text
                default: opType = text
                }
            default:
                try reader.skip(wireType)
            }
        }
    }
}
