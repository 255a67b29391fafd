import Foundation
import Reports
import Training
import XCTest

final class GridRunnerTests: XCTestCase {
    func temporaryFolder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-grid-\(UUID())") }

    func suiteFile(in folder: URL, _ text: String) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("suite.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static let suiteText = """
        name: test
        model: vit_base_patch16_224
        data_root: /nowhere
        protocol: honest
        methods: [linear, lora]
        datasets: [vtab1k:cifar100, vtab1k:dtd]
        seeds: [1, 2]
        settings: {epochs: 2, warmup_epochs: 0}
        method_settings: {lora: {method_options: {rank: 4}}}
        """

    func testSuiteCellsAndFlags() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try BenchSuite.load(try suiteFile(in: folder, Self.suiteText))
        XCTAssertEqual(suite.cells.count, 8)
        let cell = suite.cells.first { $0.method == "lora" }!
        let flags = suite.flags(for: cell)
        XCTAssertEqual(flags["method"] as? String, "lora")
        XCTAssertEqual((flags["method_options"] as? [String: Any])?["rank"] as? Int, 4)
        XCTAssertEqual(flags["epochs"] as? Int, 2)
        XCTAssertEqual(cell.folderName, "lora/vtab1k_cifar100/seed-1")
    }

    func testBadSuitesAreClearErrors() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (text, expected) in [("methods: []\ndatasets: [vtab1k:dtd]", "'methods'"),
                                 ("methods: [lora]\ndatasets: [cifar]", "suite:name"),
                                 ("methods: [lora]\ndatasets: [vtab1k:dtd]\nepochz: 3", "unknown key 'epochz'"),
                                 ("methods: [lora]\ndatasets: [vtab1k:dtd]\nsettings: {epoch: 3}", "did you mean 'epochs'"),
                                 ("methods: [lora]\ndatasets: [vtab1k:dtd]\nmethod_settings: {ssf: {lr: 1}}", "not in 'methods'")] {
            XCTAssertThrowsError(try BenchSuite.load(try suiteFile(in: folder, text))) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }

    /// A grid killed mid-way and re-run completes the missing cells only.
    func testRerunCompletesOnlyTheMissingCells() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let runner = GridRunner(suite: try BenchSuite.load(try suiteFile(in: folder, Self.suiteText)), folder: folder.appendingPathComponent("out"))
        var ran: [String] = []
        struct Killed: Error {}
        // The first pass "dies" at the fourth cell.
        XCTAssertThrowsError(try runner.runPending { cell, cellFolder, _ in
            if ran.count == 3 { throw Killed() }
            try FileManager.default.createDirectory(at: cellFolder, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: cellFolder.appendingPathComponent("record.json"))
            ran.append(cell.folderName)
        })
        XCTAssertEqual(runner.pending.count, 5)
        var second: [String] = []
        let count = try runner.runPending { cell, cellFolder, _ in
            try FileManager.default.createDirectory(at: cellFolder, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: cellFolder.appendingPathComponent("record.json"))
            second.append(cell.folderName)
        }
        XCTAssertEqual(count, 5)
        XCTAssertTrue(Set(ran).isDisjoint(with: second), "finished cells are not run again")
        XCTAssertEqual(Set(ran + second).count, 8)
        XCTAssertTrue(runner.pending.isEmpty)
    }

    func testSlurmScriptRunsOneCellPerArrayTask() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let runner = GridRunner(suite: try BenchSuite.load(try suiteFile(in: folder, Self.suiteText)), folder: URL(fileURLWithPath: "/shared/grid"))
        let resources = try SlurmResources(cpusPerTask: 8, memory: "16G", time: "4:00:00", partition: "gpu", account: "lab")
        let lines = try runner.slurmScript(suiteFile: "/shared/suite.yaml", executable: "/opt/vpeft", resources: resources).split(separator: "\n").map(String.init)
        for expected in ["#SBATCH --array=0-7", "#SBATCH --cpus-per-task=8", "#SBATCH --mem=16G", "#SBATCH --time=04:00:00",
                         "#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --requeue", "#SBATCH --signal=B:TERM@300",
                         "#SBATCH --open-mode=append", "#SBATCH --output=/shared/grid/slurm/%A_%a.out", "# Submit: sbatch /shared/grid/bench.sbatch"] {
            XCTAssertTrue(lines.contains(expected), expected)
        }
        // exec: Slurm's SIGTERM reaches vpeft itself, not a shell that would die without passing it on.
        XCTAssertEqual(lines.last, #"exec /opt/vpeft bench --suite /shared/suite.yaml --out /shared/grid --cell "$SLURM_ARRAY_TASK_ID" --threads "${SLURM_CPUS_PER_TASK:-8}""#)
        let bare = try runner.slurmScript(suiteFile: "/s.yaml", executable: "/v", resources: try SlurmResources(cpusPerTask: 1, memory: "1536", time: "1-0"))
        XCTAssertTrue(bare.contains("#SBATCH --mem=1536M\n#SBATCH --time=1-00:00:00\n#SBATCH --requeue"), "no partition or account lines unless given")
        XCTAssertThrowsError(try runner.slurmScript(suiteFile: "/my suite.yaml", executable: "/v", resources: resources)) {
            XCTAssertTrue("\($0)".contains("without spaces"), "\($0)")
        }
    }

    /// Slurm's notations, and the requests that would be accepted by sbatch but cannot work.
    func testSlurmResourcesRefuseWhatCannotWork() throws {
        XCTAssertEqual(SlurmResources.mebibytes("16G"), 16384)
        XCTAssertEqual(SlurmResources.mebibytes("500m"), 500)
        XCTAssertEqual(SlurmResources.mebibytes("2048"), 2048)
        XCTAssertEqual(SlurmResources.mebibytes("1T"), 1_048_576)
        XCTAssertNil(SlurmResources.mebibytes("lots"))
        XCTAssertEqual(SlurmResources.seconds("30"), 1800)
        XCTAssertEqual(SlurmResources.seconds("10:30"), 630)
        XCTAssertEqual(SlurmResources.seconds("2:00:00"), 7200)
        XCTAssertEqual(SlurmResources.seconds("1-12"), 129_600)
        XCTAssertEqual(SlurmResources.seconds("1-00:01"), 86460)
        XCTAssertEqual(SlurmResources.seconds("1-00:00:05"), 86405)
        for bad in ["", "1:2:3:4", "a:00", "1-2-3", "-5"] { XCTAssertNil(SlurmResources.seconds(bad), bad) }
        for (threads, memory, time, expected) in [(0, "16G", "1:00:00", "--threads"), (4, "256M", "1:00:00", "below 512M"),
                                                  (4, "16Q", "1:00:00", "--mem '16Q'"), (4, "16G", "5:00", "checkpoint before its limit"),
                                                  (4, "16G", "soon", "--time 'soon'")] {
            XCTAssertThrowsError(try SlurmResources(cpusPerTask: threads, memory: memory, time: time)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        XCTAssertThrowsError(try SlurmResources(cpusPerTask: 1, memory: "1G", time: "1:00:00", partition: "a b"))
    }

    /// With a search the final cells need the selection's results: a second array that waits for the first.
    func testSlurmSubmitsSelectionCellsFirst() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try BenchSuite.load(try suiteFile(in: folder, "methods: [lora]\ndatasets: [vtab1k:dtd]\nseeds: [1, 2]\nsearch: {lr: [1.0e-3, 1.0e-2]}"))
        let runner = GridRunner(suite: suite, folder: URL(fileURLWithPath: "/shared/grid"))
        XCTAssertEqual(runner.submitCommand(script: "b.sbatch"), "sbatch --dependency=afterok:$(sbatch --parsable --array=0-1 b.sbatch) --array=2-3 b.sbatch")
        let script = try runner.slurmScript(suiteFile: "/s.yaml", executable: "/v", resources: try SlurmResources(cpusPerTask: 1, memory: "1G", time: "1:00:00"))
        XCTAssertTrue(script.contains("# 4 cells: 2 selection cells (0-1), then 1 methods × 1 datasets × 2 seeds."), script)
    }

    /// Slurm stops a task with SIGTERM: it asks for a checkpoint like Ctrl-C, and the process
    /// exits 143 so the scheduler's log shows the cell stopped. (The real signal is sent by
    /// scripts/check/slurm_end_to_end.sh through `scontrol requeue`.)
    func testSIGTERMExitsWithItsOwnStatus() {
        defer { Interrupt.request(false) }
        Interrupt.request(signal: SIGTERM)
        XCTAssertTrue(Interrupt.requested)
        XCTAssertEqual(Interrupt.exitStatus, 143)
        Interrupt.request()
        XCTAssertEqual(Interrupt.exitStatus, 130)
    }
}

/// The honest protocol's selection: val200 picks the hyper-parameters of the final runs.
final class HyperparameterSearchTests: XCTestCase {
    func testSelectionCellsPickTheFinalRunsHyperparameters() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-search-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("suite.yaml")
        try """
            methods: [lora]
            datasets: [vtab1k:dtd]
            seeds: [1, 2, 3]
            search: {lr: [1.0e-3, 1.0e-2], method_options.rank: [4, 8]}
            """.write(to: url, atomically: true, encoding: .utf8)
        let suite = try BenchSuite.load(url)
        XCTAssertEqual(suite.selectionCells.count, 4)
        XCTAssertEqual(suite.finalCells.count, 3)
        let selection = suite.flags(for: suite.selectionCells[0])
        XCTAssertEqual(selection["protocol"] as? String, "honest-select")
        let runner = GridRunner(suite: suite, folder: folder.appendingPathComponent("out"))
        XCTAssertThrowsError(try runner.chosenCombination(for: suite.finalCells[0])) { XCTAssertTrue("\($0)".contains("has not finished"), "\($0)") }
        // Val200 accuracies: the second combination in order wins.
        var order: [String] = []
        try runner.runPending { cell, cellFolder, _ in
            order.append(cell.combination == nil ? "final" : "select")
            var accuracy = 50.0
            if let c = cell.combination { accuracy = c["lr"] == .number(1e-2) && c["method_options.rank"] == .number(4) ? 80 : 60 }
            if cell.combination == nil {
                let chosen = try XCTUnwrap(try runner.chosenCombination(for: cell))
                XCTAssertEqual(chosen["lr"], .number(1e-2))
                XCTAssertEqual(chosen["method_options.rank"], .number(4))
                let flags = suite.flags(for: cell, chosen: chosen)
                XCTAssertEqual(flags["protocol"] as? String, "honest")
                XCTAssertEqual(flags["lr"] as? Double, 1e-2)
                XCTAssertEqual((flags["method_options"] as? [String: Any])?["rank"] as? Int, 4)
            }
            try FileManager.default.createDirectory(at: cellFolder, withIntermediateDirectories: true)
            try Data(#"{"accuracy": {"reported": \#(accuracy)}}"#.utf8).write(to: cellFolder.appendingPathComponent("record.json"))
        }
        XCTAssertEqual(order, ["select", "select", "select", "select", "final", "final", "final"], "selection runs first")
    }
}
