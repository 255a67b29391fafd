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
