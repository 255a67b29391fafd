import ArgumentParser
import Foundation
import Reports
import Tensor
import Training

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a benchmark grid (methods × datasets × seeds) and report it like the paper.",
        discussion: """
        Each cell is a deterministic job in OUT/cells/<method>/<dataset>/seed-<seed>/. Finished cells \
        (with a record.json) are skipped, interrupted ones resume, so re-running an interrupted grid \
        completes only the missing cells. --jobs N runs cells as N child processes sharing the cores; \
        --emit slurm writes an sbatch job-array script (one array task per cell) instead of running. \
        At the end the Table-IV-style report is printed and written to OUT/report.md with plots in OUT/plots.
        """)

    @Option(help: "The suite file (YAML).") var suite: String
    @Option(help: "Output folder of the grid.") var out: String?
    @Option(name: .customLong("set"), help: "key=value override for every cell (repeatable).") var overrides: [String] = []
    @Flag(help: "List the cells and their state, run nothing.") var dryRun = false
    @Option(help: "Run only cell number I (0-based, as listed by --dry-run): what each Slurm array task does.") var cell: Int?
    @Option(help: "Cells to run at once, as child processes.") var jobs = 1
    @Option(help: "Write a scheduler script instead of running: \(Scheduler.allCases.map(\.rawValue).joined(separator: ", ")).") var emit: Scheduler?
    @Option(help: "Threads per cell (default: the cores divided by --jobs; with --emit slurm, 4 as --cpus-per-task).") var threads: Int?
    @Option(help: "--emit slurm: memory per cell, Slurm's notation (default 16G; 500M; at least \(SlurmResources.memoryFloorMiB)M).") var mem: String?
    @Option(help: "--emit slurm: time limit per cell, Slurm's notation (default 24:00:00; D-HH:MM:SS); SIGTERM \(SlurmResources.checkpointLead) s before it checkpoints the cell.") var time: String?
    @Option(help: "--emit slurm: partition (default: the cluster's).") var partition: String?
    @Option(help: "--emit slurm: account to charge (default: yours).") var account: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be ≥ 1, got \(jobs)") }
        if emit == nil, [mem, time, partition, account].contains(where: { $0 != nil }) {
            throw ValidationError("--mem, --time, --partition and --account describe Slurm tasks: use them with --emit slurm")
        }
    }

    func run() throws {
        let suiteURL = URL(fileURLWithPath: suite)
        let grid = try BenchSuite.load(suiteURL)
        let folder = URL(fileURLWithPath: out ?? "runs/\(grid.name)")
        let runner = GridRunner(suite: grid, folder: folder)
        let cells = grid.cells
        if dryRun {
            print("\(cells.count) cells (\(runner.pending.count) pending) in \(folder.path):")
            for (i, c) in cells.enumerated() { print("  [\(i)] \(c.folderName)\(runner.isFinished(c) ? "  (done)" : "")") }
            return
        }
        if emit == .slurm {
            let resources = try SlurmResources(cpusPerTask: threads ?? 4, memory: mem ?? "16G", time: time ?? "24:00:00", partition: partition, account: account)
            // The nodes run this very binary: its absolute path, not how it was typed here.
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let script = try runner.slurmScript(suiteFile: suiteURL.path, executable: executable, resources: resources)
            let url = folder.appendingPathComponent("bench.sbatch")
            // Slurm opens the tasks' log files before the script runs: their folder must exist.
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("slurm"), withIntermediateDirectories: true)
            try Data(script.utf8).write(to: url)
            print("wrote \(url.path): submit with `\(runner.submitCommand(script: url.path))`, then `vpeft report \(folder.path)`")
            return
        }
        let budget = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / jobs)
        Parallel.setThreadCount(budget)
        if let cell {
            guard cells.indices.contains(cell) else { throw ValidationError("--cell \(cell): the suite has cells 0..<\(cells.count)") }
            // A Slurm array task, or a child of --jobs: a scheduler's SIGTERM checkpoints the cell.
            Interrupt.install()
            try runCell(cells[cell], grid: grid, runner: runner)
            return
        }
        if jobs > 1 {
            // Selection cells first: the final cells read their results.
            try runAsChildProcesses(runner.pending.filter { $0.combination != nil }.compactMap { c in cells.firstIndex(of: c) }, folder: folder, threads: budget)
            try runAsChildProcesses(runner.pending.compactMap { c in cells.firstIndex(of: c) }, folder: folder, threads: budget)
        } else {
            Interrupt.install()
            try runner.runPending { c, _, _ in try runCell(c, grid: grid, runner: runner) }
        }
        try report(folder)
    }

    private func runCell(_ c: BenchSuite.Cell, grid: BenchSuite, runner: GridRunner) throws {
        guard !runner.isFinished(c) else { print("\(c.method) × \(c.dataset) × seed \(c.seed): done"); return }
        let cellFolder = runner.cellFolder(c)
        let resume = FileManager.default.fileExists(atPath: cellFolder.appendingPathComponent(TrainingCheckpoint.fileName).path)
        let chosen = c.combination == nil ? try runner.chosenCombination(for: c) : nil
        let (config, _) = try RunConfiguration.resolve(configFile: nil, flags: grid.flags(for: c, chosen: chosen), overrides: overrides,
                                                       configsFolder: RunConfiguration.configsFolder())
        let what: String
        if let combination = c.combination {
            what = "select " + describe(combination)
        } else if let chosen {
            what = "seed \(c.seed) with " + describe(chosen)
        } else {
            what = "seed \(c.seed)"
        }
        print("== \(c.method) × \(c.dataset) × \(what)\(resume ? " (resuming)" : "")")
        let session = try TrainingSession(config: config)
        guard let record = try session.run(in: cellFolder, resume: resume, progress: ProgressReporter()) else { throw ExitCode(Interrupt.exitStatus) }
        print(String(format: "   %.2f%% (%@), %@ trainable", record.accuracy.reported, record.accuracy.reportedKind, record.params.trainable.formatted()))
    }

    private func describe(_ combination: [String: JSONValue]) -> String {
        combination.keys.sorted().map { key in "\(key)=\(BenchSuite.text(combination[key]!))" }.joined(separator: " ")
    }

    /// Up to `jobs` child `vpeft bench --cell i` processes at a time.
    private func runAsChildProcesses(_ indices: [Int], folder: URL, threads: Int) throws {
        var queue = indices[...]
        var running: [Process] = []
        var failed: [Int32] = []
        while !queue.isEmpty || !running.isEmpty {
            while running.count < jobs, let i = queue.popFirst() {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
                p.arguments = ["bench", "--suite", suite, "--out", folder.path, "--cell", "\(i)", "--threads", "\(threads)"] + overrides.flatMap { ["--set", $0] }
                try p.run()
                running.append(p)
            }
            Thread.sleep(forTimeInterval: 0.5)
            for p in running where !p.isRunning && p.terminationStatus != 0 { failed.append(p.terminationStatus) }
            running.removeAll { !$0.isRunning }
        }
        if !failed.isEmpty { throw ValidationError("\(failed.count) cell(s) failed; re-run to retry them (finished cells are kept)") }
    }

    private func report(_ folder: URL) throws {
        // Selection runs (val200) only chose hyper-parameters: the report shows the final runs.
        let records = try RunRecordLoader.load(from: folder).filter { $0.evaluationProtocol != "honest-select" }
        let table = TaskTable.scoreTable(records: records)
        print(TableFormat.markdown.render(table))
        try table.write(to: folder.appendingPathComponent("report.md"))
        try EfficiencyTable.make(records: records).write(to: folder.appendingPathComponent("efficiency.md"))
        let written = try RecordPlots.writeAll(records: records, to: folder.appendingPathComponent("plots"))
        print("wrote \(folder.path)/report.md, efficiency.md and \(written.count) plots in \(folder.path)/plots")
    }
}

/// The job schedulers `vpeft bench --emit` writes scripts for.
enum Scheduler: String, ExpressibleByArgument, CaseIterable {
    case slurm
}
