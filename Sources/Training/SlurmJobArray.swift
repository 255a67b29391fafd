import Foundation

/// What each array task of a Slurm job asks for, checked before a script is written: a request
/// Slurm would accept but that cannot work is refused here, where it is cheap to fix.
public struct SlurmResources: Equatable {
    /// Seconds before the time limit at which Slurm sends SIGTERM (`--signal=B:TERM@…`): enough
    /// for the longest step of a large model on a few cores plus writing the checkpoint.
    public static let checkpointLead = 300
    /// A floor, not an estimate: the process alone (runtime, BLAS/oneDNN, data pipeline) needs
    /// about this much before any model is loaded.
    public static let memoryFloorMiB = 512

    public var cpusPerTask: Int
    public var memoryMiB: Int
    public var timeSeconds: Int
    public var partition: String?
    public var account: String?

    /// `memory` and `time` in Slurm's notations: `16G`, `500M`, `2048` (MiB); `MM`, `MM:SS`,
    /// `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
    public init(cpusPerTask: Int, memory: String, time: String, partition: String? = nil, account: String? = nil) throws {
        guard cpusPerTask >= 1 else { throw ConfigError("--threads must be ≥ 1, got \(cpusPerTask)") }
        guard let mib = Self.mebibytes(memory) else { throw ConfigError("--mem '\(memory)': expected a size like 16G or 500M") }
        guard mib >= Self.memoryFloorMiB else {
            throw ConfigError("--mem \(memory) is below \(Self.memoryFloorMiB)M, which the process needs before any model loads")
        }
        guard let seconds = Self.seconds(time) else { throw ConfigError("--time '\(time)': expected Slurm's MM, HH:MM:SS or D-HH:MM:SS") }
        // The cell gets SIGTERM `checkpointLead` seconds before the limit: a shorter limit would
        // stop every cell as soon as it starts.
        guard seconds > Self.checkpointLead else {
            throw ConfigError("--time \(time) is not longer than the \(Self.checkpointLead) s a cell is given to checkpoint before its limit")
        }
        for (flag, value) in [("--partition", partition), ("--account", account)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace }) { throw ConfigError("\(flag) '\(value)': expected a name") }
        }
        (self.cpusPerTask, memoryMiB, timeSeconds, self.partition, self.account) = (cpusPerTask, mib, seconds, partition, account)
    }

    /// Slurm's `--mem` value: a plain number is MiB; K, M, G and T suffixes.
    public static func mebibytes(_ text: String) -> Int? {
        var digits = text.uppercased()
        var scale = 1.0
        if let unit = digits.last, !unit.isNumber {
            let scales: [String: Double] = ["K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024]
            guard let s = scales[String(unit)] else { return nil }
            scale = s
            digits.removeLast()
        }
        guard let value = Int(digits), value > 0 else { return nil }
        return Int((Double(value) * scale).rounded(.up))
    }

    /// Slurm's `--time` value in seconds.
    public static func seconds(_ text: String) -> Int? {
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dayParts.count <= 2 else { return nil }
        let fields = dayParts.last!.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !fields.contains(nil), (1...3).contains(fields.count) else { return nil }
        let f = fields.map { $0! }
        guard f.allSatisfy({ $0 >= 0 }) else { return nil }
        if dayParts.count == 2 {
            guard let days = Int(dayParts[0]), days >= 0 else { return nil }
            // D-HH, D-HH:MM, D-HH:MM:SS
            let hms = f + Array(repeating: 0, count: 3 - f.count)
            return days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        }
        switch f.count {
        case 1: return f[0] * 60                                // MM
        case 2: return f[0] * 60 + f[1]                         // MM:SS
        default: return f[0] * 3600 + f[1] * 60 + f[2]          // HH:MM:SS
        }
    }

    /// `D-HH:MM:SS`, or `HH:MM:SS` under a day.
    var timeText: String {
        let (d, h, m, s) = (timeSeconds / 86400, timeSeconds / 3600 % 24, timeSeconds / 60 % 60, timeSeconds % 60)
        let clock = String(format: "%02d:%02d:%02d", h, m, s)
        return d > 0 ? "\(d)-\(clock)" : clock
    }

    var memoryText: String { memoryMiB % 1024 == 0 ? "\(memoryMiB / 1024)G" : "\(memoryMiB)M" }
}

extension GridRunner {
    /// A Slurm job-array script: array task i runs cell i (`vpeft bench --suite … --cell i`), all
    /// writing under `folder` (a shared filesystem); `vpeft report` then merges the records.
    /// The task `exec`s vpeft, so Slurm's signals reach the trainer itself: SIGTERM before the
    /// time limit, on `scancel`, `scontrol requeue` or preemption makes the cell checkpoint at
    /// its next step, and the same task run again resumes it. With a search, the final cells read
    /// the selection cells' results: `submitCommand` submits them as a second, dependent array.
    public func slurmScript(suiteFile: String, executable: String, resources r: SlurmResources) throws -> String {
        // #SBATCH lines are not shell: sbatch does not unquote them.
        for path in [folder.path, suiteFile, executable] where path.contains(where: { $0.isWhitespace || $0 == "%" || $0 == "'" }) {
            throw ConfigError("'\(path)': Slurm scripts here need paths without spaces, quotes or %")
        }
        var lines = [
            "#!/bin/bash",
            "#SBATCH --job-name=vpeft-\(suite.name)",
            "#SBATCH --array=0-\(suite.cells.count - 1)",
            "#SBATCH --cpus-per-task=\(r.cpusPerTask)",
            "#SBATCH --mem=\(r.memoryText)",
            "#SBATCH --time=\(r.timeText)",
        ]
        if let partition = r.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let account = r.account { lines.append("#SBATCH --account=\(account)") }
        lines += [
            "#SBATCH --requeue",
            "#SBATCH --signal=B:TERM@\(SlurmResources.checkpointLead)",
            "#SBATCH --open-mode=append",
            "#SBATCH --output=\(folder.path)/slurm/%A_%a.out",
            "# \(suite.cells.count) cells: "
                + (suite.search.isEmpty ? "" : "\(suite.selectionCells.count) selection cells (0-\(suite.selectionCells.count - 1)), then ")
                + "\(suite.methods.count) methods × \(suite.datasets.count) datasets × \(suite.seeds.count) seeds.",
            "# Each array task runs one cell; finished cells are skipped, interrupted ones resume.",
            "# SIGTERM (\(SlurmResources.checkpointLead) s before the time limit, scancel, requeue) checkpoints the cell at its next step",
            "# and exits 143; submitting the script again resumes it.",
            "# Submit: \(submitCommand(script: folder.appendingPathComponent("bench.sbatch").path))",
            "set -euo pipefail",
            "exec \(executable) bench --suite \(suiteFile) --out \(folder.path) --cell \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-\(r.cpusPerTask)}\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// How to submit the script: at once, or with a search the selection cells first and the
    /// final cells once they all succeeded (`--array` on the command line overrides the script's).
    public func submitCommand(script: String) -> String {
        let selection = suite.selectionCells.count
        guard selection > 0 else { return "sbatch \(script)" }
        return "sbatch --dependency=afterok:$(sbatch --parsable --array=0-\(selection - 1) \(script)) --array=\(selection)-\(suite.cells.count - 1) \(script)"
    }
}
