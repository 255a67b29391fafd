import Foundation

/// A task in the VTAB-1k processed layout: `<folder>/{train800,val200,train800val200,test}.txt`,
/// each line `<path relative to folder> <label>`, images under the folder. The 19 catalog
/// tasks are recognised by folder name; any other folder with these list files (an import,
/// say) is a custom task whose classes come from `classes.txt` or the largest label.
public struct VTAB1kDataset: Sendable {
    public enum Split: String, CaseIterable, Codable, Sendable {
        case train800, val200, train800val200, test

        /// Splits a model is trained on (every class must appear, see `trainingMayMissClasses`).
        public var isTraining: Bool { self == .train800 || self == .train800val200 }
    }

    public let folder: URL
    /// The catalog entry; nil for a custom task.
    public let task: VTAB1kCatalog.Task?
    public let classCount: Int

    public var name: String { task?.name ?? folder.lastPathComponent }

    /// The task stored in `folder`: a catalog task if the folder name is one (`cifar`, `dtd`, …),
    /// otherwise a custom task.
    public init(folder: URL, catalog: VTAB1kCatalog = .standard) throws {
        guard DirectoryListing.isDirectory(folder) else { throw DatasetError(file: folder.path, "VTAB-1k task folder not found") }
        self.folder = folder
        if let task = catalog.task(named: folder.lastPathComponent) {
            self.task = task
            classCount = task.classes
        } else {
            task = nil
            classCount = try Self.customClassCount(folder)
        }
    }

    /// The catalog task `name` under `root`, trying each of its folder names (`cifar`, then
    /// `cifar100`).
    public init(root: URL, name: String, catalog: VTAB1kCatalog = .standard) throws {
        guard let task = catalog.task(named: name) else {
            throw DatasetError(file: root.path, "unknown VTAB-1k task '\(name)' (known: \(catalog.datasets.map(\.name).joined(separator: ", ")))")
        }
        guard let folder = task.folders.map({ root.appendingPathComponent($0) }).first(where: { DirectoryListing.isDirectory($0) }) else {
            throw DatasetError(file: root.path, "no folder for \(task.name) (looked for \(task.folders.joined(separator: ", ")))")
        }
        try self.init(folder: folder, catalog: catalog)
    }

    /// Task `name` under `root`: a catalog task (with its folder aliases) or, for any other
    /// name, the custom task in `root/name` (an import, say).
    public static func named(_ name: String, in root: URL, catalog: VTAB1kCatalog = .standard) throws -> VTAB1kDataset {
        catalog.task(named: name) != nil ? try VTAB1kDataset(root: root, name: name, catalog: catalog)
                                         : try VTAB1kDataset(folder: root.appendingPathComponent(name), catalog: catalog)
    }

    public func listFile(_ split: Split) -> URL { folder.appendingPathComponent("\(split.rawValue).txt") }

    /// Reads a split: paths checked, labels in range, and — for training splits, unless
    /// `checkClasses` is off — every class present unless the catalog says the task may miss some.
    public func split(_ split: Split, policy: BadSamplePolicy = .fail, report: SkipReport = SkipReport(),
                      checkClasses: Bool = true) throws -> ImageFileList {
        let list = listFile(split)
        let samples = try SplitListParser.parse(list, classCount: classCount, policy: policy, report: report)
        let files = try ImageFileList(root: folder, samples: samples, classCount: classCount, classNames: classNames)
        if checkClasses && split.isTraining && !(task?.trainingMayMissClasses ?? false) { try files.requireEveryClass(splitFile: list.path) }
        return files
    }

    /// Names from `classes.txt` (one per line, label order), when the folder has one.
    public var classNames: [String]? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("classes.txt"), encoding: .utf8) else { return nil }
        let names = text.split(separator: "\n").map(String.init)
        return names.count == classCount ? names : nil
    }

    /// A custom task's class count: `classes.txt`'s lines, else the largest label of the
    /// training and test lists plus one.
    private static func customClassCount(_ folder: URL) throws -> Int {
        if let text = try? String(contentsOf: folder.appendingPathComponent("classes.txt"), encoding: .utf8) {
            let count = text.split(separator: "\n").count
            if count > 0 { return count }
        }
        var largest = -1
        for split in [Split.train800val200, .train800, .test] {
            let url = folder.appendingPathComponent("\(split.rawValue).txt")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let labels = try SplitListParser.parse(url, classCount: nil, policy: .skip).map(\.label)
            largest = Swift.max(largest, labels.max() ?? -1)
        }
        guard largest >= 0 else { throw DatasetError(file: folder.appendingPathComponent("train800val200.txt").path, "split file is missing") }
        return largest + 1
    }
}
