import ArgumentParser
import Foundation
import Tensor
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a backbone with a PEFT method on a dataset; writes an adapter, a per-epoch log and a run record.",
        discussion: """
        The configuration is resolved from layers (later wins): the dataset's protocol defaults, \
        configs/methods/<method>.yaml (its defaults and the dataset's entry), --config FILE, the flags \
        below, and --set key=value (e.g. --set lr=2e-3 --set method_options.rank=4). It is printed \
        before training and stored in the run record. Protocols: vpetl (train on train800val200, \
        report the best test accuracy — test-set selection, labelled so), honest (train on \
        train800val200, report the final epoch), honest-select (train on train800, report val200).
        Ctrl-C stops after the current step and writes a checkpoint; --resume continues it and ends \
        bit-identical to an uninterrupted run.
        """)

    @OptionGroup var backbone: BackboneOptions
    @Option(help: "PEFT method (see `vpeft methods`).") var method: String?
    @Option(help: "Dataset as suite:name, e.g. vtab1k:cifar100.") var dataset: String?
    @Option(help: "Folder holding the dataset folders.") var dataRoot: String?
    @Option(help: "A YAML or JSON config file.") var config: String?
    @Option(name: .customLong("set"), help: "key=value override (repeatable).") var overrides: [String] = []
    @Option(help: "Evaluation protocol: \(EvaluationProtocol.allCases.map(\.rawValue).joined(separator: ", ")).") var `protocol`: EvaluationProtocol?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Output folder (checkpoint, adapter, epochs.csv, record.json).") var out = "runs/latest"
    @Flag(help: "Continue the checkpoint in --out.") var resume = false
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var arithmetic: PrecisionOptions
    @Flag(help: "Print the resolved configuration and exit.") var dryRun = false

    func run() throws {
        var flags: [String: Any] = [:]
        if let model = backbone.model { flags["model"] = model }
        if let weights = backbone.weights { flags["weights"] = weights }
        if let method { flags["method"] = method }
        if let dataset { flags["dataset"] = dataset }
        if let dataRoot { flags["data_root"] = dataRoot }
        if let p = `protocol` { flags["protocol"] = p.rawValue }
        if let seed { flags["seed"] = Int(seed) }
        if let threads = threading.threads { flags["threads"] = threads }
        if let precision = arithmetic.precision { flags["precision"] = precision.rawValue }
        let (resolved, loader) = try RunConfiguration.resolve(configFile: config.map { URL(fileURLWithPath: $0) }, flags: flags,
                                                             overrides: overrides, configsFolder: RunConfiguration.configsFolder())
        if let t = resolved.threads { Parallel.setThreadCount(t) }
        printConfiguration(resolved, origins: loader.origins)
        if dryRun { return }
        // The run folder first: an unwritable or busy --out is known before the model loads.
        let outFolder = URL(fileURLWithPath: out)
        let lock = try RunFolderLock(folder: outFolder)
        let session = try TrainingSession(config: resolved)
        print("method \(resolved.method): \(session.model.trainableParameterCount().formatted()) trainable parameters "
              + "(\(session.model.trainableParameterCount(includingHead: true).formatted()) with head); "
              + "train \(session.train.sampleCount) images, eval \(session.eval.sampleCount) (\(session.splitNames.eval))")
        Interrupt.install()
        guard let record = try session.run(in: outFolder, lock: lock, resume: resume, progress: ProgressReporter()) else {
            throw ExitCode(Interrupt.exitStatus)
        }
        print(String(format: "%@ on %@: %.2f%% (%@), PPT %@, wrote %@/record.json and %@/adapter", record.method, record.dataset.name,
                     record.accuracy.reported, record.accuracy.reportedKind, record.params.ppt.map { String(format: "%.4f", $0) } ?? "–", out, out))
    }
}

/// The resolved configuration, one key a line, with where each value came from.
func printConfiguration(_ config: TrainingConfig, origins: [String: String]) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    guard let object = (try? JSONSerialization.jsonObject(with: encoder.encode(config))) as? [String: Any] else { return }
    print("configuration:")
    for key in object.keys.sorted() {
        let value = (try? JSONSerialization.data(withJSONObject: object[key]!, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "\(object[key]!)"
        print("  \(key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(value)\(origins[key].map { "   (\($0))" } ?? "")")
    }
}
