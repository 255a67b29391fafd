import ArgumentParser
import Checkpoints
import Foundation
import Tensor

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a checkpoint: format, names, dtypes, shapes, parameter count.",
        discussion: "Reads .safetensors, Google .npz and PyTorch .pth/.bin (zip or legacy) without executing anything.")

    @Argument(help: "The checkpoint file.") var file: String
    @Option(help: "Show at most this many tensors (0 = all).") var limit = 0

    func run() throws {
        let checkpoint = try Checkpoint.read(URL(fileURLWithPath: file))
        let names = checkpoint.tensors.keys.sorted()
        let total = checkpoint.tensors.values.reduce(0) { $0 + $1.count }
        print("\(file): \(checkpoint.format.rawValue), \(names.count) tensors, \(total.formatted()) values")
        let width = names.map(\.count).max() ?? 0
        for name in limit > 0 ? Array(names.prefix(limit)) : names {
            let t = checkpoint.tensors[name]!
            let dtype = checkpoint.dtypes[name] ?? "F32"
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(dtype.padding(toLength: 5, withPad: " ", startingAt: 0))  \(t.shape)")
        }
        if limit > 0 && names.count > limit { print("  … \(names.count - limit) more") }
    }
}
