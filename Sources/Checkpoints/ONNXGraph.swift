import Tensor

/// An ONNX graph (`GraphProto`) as a checkpoint: its initializers by name and the nodes that
/// consume them. Exporters leave tensors that are no module parameter anonymous
/// (`onnx::MatMul_1234` — linear weights, stored transposed as [in, out]); the only stable way to
/// tell what such a tensor is, is the node that consumes it, never its position in the file.
/// Nodes of subgraphs (attributes of If / Loop / Scan) are not read.
public struct ONNXGraph {
    public var name: String
    /// Nodes in the file's (topological) order.
    public var nodes: [ONNXNode]
    public var initializers: [String: ONNXInitializer]
    /// Initializer names in file order.
    public var initializerNames: [String]
    /// Names of the graph's inputs and outputs (`ValueInfoProto.name`).
    public var inputs: [String]
    public var outputs: [String]

    /// Every (node, input index) that reads `value`, in node order.
    public func consumers(of value: String) -> [(node: ONNXNode, input: Int)] {
        nodes.flatMap { node in node.inputs.indices.filter { node.inputs[$0] == value }.map { (node, $0) } }
    }

    /// The node that computes `value`, or nil for a graph input, an initializer or an unknown name.
    public func producer(of value: String) -> ONNXNode? {
        nodes.first { $0.outputs.contains(value) }
    }

    /// The node named `name`; nil when no node, or more than one, has that name (ONNX does not
    /// require unique node names, and guessing between two would be naming by order).
    public func node(named name: String) -> ONNXNode? {
        let matches = nodes.filter { $0.name == name }
        return matches.count == 1 ? matches[0] : nil
    }

    /// The initializer that node `nodeName` reads as its input `index` (e.g. input 1 of
    /// "/encoder/layer.0/attention/key/MatMul", the key projection's weight), or nil when that
    /// input is no initializer.
    public func initializer(consumedBy nodeName: String, input index: Int) -> ONNXInitializer? {
        guard let node = node(named: nodeName), node.inputs.indices.contains(index) else { return nil }
        return initializers[node.inputs[index]]
    }

    /// Reads a `GraphProto`: node 1, name 2, initializer 5, input 11, output 12 (onnx.proto).
    init(reading reader: inout ProtobufReader) throws {
        (name, nodes, initializers, initializerNames, inputs, outputs) = ("", [], [:], [], [], [])
        while let (field, wireType) = try reader.nextField() {
            switch field {
            case 1:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var node = try reader.message("node[\(nodes.count)]")
                nodes.append(try ONNXNode(reading: &node))
            case 2:
                try reader.expect(wireType, .lengthDelimited, field: field)
                name = try reader.string()
            case 5:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var tensor = try reader.message("initializer[\(initializerNames.count)]")
                let initializer = try ONNXInitializer(reading: &tensor)
                guard initializers.updateValue(initializer, forKey: initializer.name) == nil else {
                    throw reader.error("two initializers are named '\(initializer.name)'")
                }
                initializerNames.append(initializer.name)
            case 11, 12:
                try reader.expect(wireType, .lengthDelimited, field: field)
                var valueInfo = try reader.message(field == 11 ? "input" : "output")
                let valueName = try Self.valueInfoName(&valueInfo)
                if field == 11 { inputs.append(valueName) } else { outputs.append(valueName) }
            default:
                try reader.skip(wireType)
            }
        }
    }

    /// A `ValueInfoProto`'s name (field 1); its type is skipped.
    private static func valueInfoName(_ reader: inout ProtobufReader) throws -> String {
        var name = ""
        while let (field, wireType) = try reader.nextField() {
            if field == 1 {
                try reader.expect(wireType, .lengthDelimited, field: field)
                name = try reader.string()
            } else {
                try reader.skip(wireType)
            }
        }
        return name
    }
}
