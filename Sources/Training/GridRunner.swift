import Foundation

/// Runs the cells of a grid that have no record yet. Each cell is a deterministic job in its
/// own folder: a finished cell (its `record.json` exists) is skipped, an interrupted one resumes
/// from its checkpoint — so re-running an interrupted grid completes only what is missing, and
/// cells run anywhere (another process, a cluster node) produce the same records.
public struct GridRunner {
    public let suite: BenchSuite
    public let folder: URL

    public init(suite: BenchSuite, folder: URL) {
        self.suite = suite
        self.folder = folder
    }

    public func cellFolder(_ cell: BenchSuite.Cell) -> URL { folder.appendingPathComponent("cells").appendingPathComponent(cell.folderName) }

    public func isFinished(_ cell: BenchSuite.Cell) -> Bool {
        FileManager.default.fileExists(atPath: cellFolder(cell).appendingPathComponent("record.json").path)
    }

    public var pending: [BenchSuite.Cell] { suite.cells.filter { !isFinished($0) } }

    /// The reported accuracy of a finished cell (nil when it has not finished).
    public func reportedAccuracy(_ cell: BenchSuite.Cell) -> Double? {
        guard let data = FileManager.default.contents(atPath: cellFolder(cell).appendingPathComponent("record.json").path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let accuracy = object["accuracy"] as? [String: Any] else { return nil }
        return (accuracy["reported"] as? NSNumber)?.doubleValue
    }

    /// The combination chosen for a final cell: the selection cell of the same method and dataset
    /// with the best val200 accuracy (the first in `combinations` order on ties). Nil without a
    /// search; an error while a selection cell is unfinished.
    public func chosenCombination(for cell: BenchSuite.Cell) throws -> [String: JSONValue]? {
        guard !suite.search.isEmpty else { return nil }
        var best: (combination: [String: JSONValue], accuracy: Double)?
        for candidate in suite.selectionCells where candidate.method == cell.method && candidate.dataset == cell.dataset {
            guard let accuracy = reportedAccuracy(candidate) else {
                throw ConfigError("selection cell \(candidate.folderName) has not finished: run the grid to complete the selection first")
            }
            if best == nil || accuracy > best!.accuracy { best = (candidate.combination!, accuracy) }
        }
        return best?.combination
    }

    /// Runs every pending cell with `run(cell, folder, resume)` — selection cells first, so the
    /// final cells can use their result; returns how many ran. A cell that throws stops the grid
    /// (its error names the cell); finished cells stay finished.
    @discardableResult
    public func runPending(_ run: (BenchSuite.Cell, URL, Bool) throws -> Void) throws -> Int {
        var ran = 0
        for cell in pending {
            let folder = cellFolder(cell)
            let resume = FileManager.default.fileExists(atPath: folder.appendingPathComponent(TrainingCheckpoint.fileName).path)
            do { try run(cell, folder, resume) } catch {
                throw ConfigError("cell \(cell.method) × \(cell.dataset) × seed \(cell.seed): \(error)")
            }
            ran += 1
        }
        return ran
    }
}
