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
        let script = runner.slurmScript(suiteFile: "suite.yaml", executable: "/opt/vpeft", cpusPerTask: 8, memory: "16G", time: "4:00:00")
        XCTAssertTrue(script.contains("#SBATCH --array=0-7"))
        XCTAssertTrue(script.contains("/opt/vpeft bench --suite suite.yaml --out /shared/grid --cell \"$SLURM_ARRAY_TASK_ID\""))
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
