import ArgumentParser
import Checkpoints
import Foundation
import Tensor

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a checkpoint: format, names, dtypes, shapes, parameter count.",
        discussion: """
        Reads .safetensors, Google .npz, PyTorch .pth/.bin (zip or legacy) and ONNX initializers without \
        executing anything. For ONNX, anonymous initializers (onnx::…) are shown with the node inputs that read them.
        """)

    @Argument(help: "The checkpoint file.") var file: String
    @Option(help: "Show at most this many tensors (0 = all).") var limit = 0

    func run() throws {
        let checkpoint = try Checkpoint.read(URL(fileURLWithPath: file))
        let names = checkpoint.tensors.keys.sorted()
        let total = checkpoint.tensors.values.reduce(0) { $0 + $1.count }
        print("\(file): \(checkpoint.format.rawValue), \(names.count) tensors, \(total.formatted()) values")
        if let graph = checkpoint.onnxGraph { print("  graph '\(graph.name)': \(graph.nodes.count) nodes") }
        let width = names.map(\.count).max() ?? 0
        for name in limit > 0 ? Array(names.prefix(limit)) : names {
            let t = checkpoint.tensors[name]!
            let dtype = checkpoint.dtypes[name] ?? "F32"
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(dtype.padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)"
                + consumers(of: name, in: checkpoint.onnxGraph))
        }
        if limit > 0 && names.count > limit { print("  … \(names.count - limit) more") }
    }

    /// "  ← /layer/MatMul input 1 (MatMul)" for an anonymous ONNX initializer: its name says nothing,
    /// the node reading it says what it is.
    private func consumers(of name: String, in graph: ONNXGraph?) -> String {
        guard let graph, name.hasPrefix("onnx::") else { return "" }
        let readers = graph.consumers(of: name).map { "\($0.node.name.isEmpty ? "(unnamed)" : $0.node.name) input \($0.input) (\($0.node.opType))" }
        return "  ← " + (readers.isEmpty ? "no node" : readers.joined(separator: ", "))
    }
}
