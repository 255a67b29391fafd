import Tensor

/// Names for an ONNX graph's initializers as a state dict (`vpeft convert model.onnx`).
///
/// torch.onnx.export keeps module parameters under their dotted names but leaves a Linear's
/// weight anonymous (`onnx::MatMul_1234`) when it feeds a MatMul, stored transposed as
/// [in, features out]; biases of such layers can be anonymous too (`onnx::Add_1235`). The rule,
/// applied to an initializer whose name starts with `onnx::` and that exactly one node input in
/// the graph reads, that node having a non-empty name no other node has:
/// - input 1 of a `MatMul`, rank 2 → "<node name>.weight", transposed [in, out] → [out, in] as a
///   Linear stores it;
/// - either input of an `Add`, rank 1 → "<node name>.bias".
/// Everything else keeps its name and values: named initializers, anonymous ones read by several
/// nodes or by other operators (shapes, constants), and any whose new name would collide with
/// another initializer's name or another new name. Mapping the node names onto a model's module
/// names (timm's, say) is a model mapper's job, not this one's.
public enum ONNXParameterNames {
    /// The initializers under their state-dict names, anonymous linear weights transposed.
    public static func stateDict(_ graph: ONNXGraph) -> [String: Tensor] {
        var renamed: [String: (name: String, transpose: Bool)] = [:]
        for name in graph.initializerNames where name.hasPrefix("onnx::") {
            let readers = graph.consumers(of: name)
            guard readers.count == 1, let (node, input) = readers.first, graph.node(named: node.name) != nil,
                  !node.name.isEmpty, let rank = graph.initializers[name]?.tensor.rank else { continue }
            if node.opType == "MatMul" && input == 1 && rank == 2 {
                renamed[name] = (node.name + ".weight", true)
            } else if node.opType == "Add" && rank == 1 {
                renamed[name] = (node.name + ".bias", false)
            }
        }
        // A new name used twice, or already an initializer's name, would silently drop a tensor.
        let newNameCounts = Dictionary(renamed.values.map { ($0.name, 1) }, uniquingKeysWith: +)
        renamed = renamed.filter { newNameCounts[$0.value.name] == 1 && graph.initializers[$0.value.name] == nil }

        var tensors: [String: Tensor] = [:]
        for (name, initializer) in graph.initializers {
            if let rename = renamed[name] {
                tensors[rename.name] = rename.transpose ? initializer.tensor.transposed() : initializer.tensor
            } else {
                tensors[name] = initializer.tensor
            }
        }
        return tensors
    }
}
