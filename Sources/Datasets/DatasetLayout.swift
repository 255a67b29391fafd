import Foundation

/// Which on-disk layout a folder holds, recognised from its files: a VTAB-1k task
/// (`train800.txt` …), a folder of VTAB-1k tasks, an FGVC dataset (`train.json`), or an
/// image folder (`<class>/<image>`).
public enum DatasetLayout {
    case vtab1kTask(VTAB1kDataset)
    case vtab1kRoot([VTAB1kDataset])
    case fgvc(FGVCDataset)
    case imageFolder(ImageFileList)

    public enum Kind: String, CaseIterable, Sendable {
        case vtab1k, fgvc, imagefolder
    }

    public static func detect(_ folder: URL, expect: Kind? = nil) throws -> DatasetLayout {
        let fm = FileManager.default
        func has(_ name: String) -> Bool { fm.fileExists(atPath: folder.appendingPathComponent(name).path) }
        guard DirectoryListing.isDirectory(folder) else { throw DatasetError(file: folder.path, "not a folder") }
        let kind: Kind
        if let expect {
            kind = expect
        } else if VTAB1kDataset.Split.allCases.contains(where: { has("\($0.rawValue).txt") }) || taskFolders(folder).count > 0 {
            kind = .vtab1k
        } else if FGVCDataset.splitNames.contains(where: { has("\($0).json") }) {
            kind = .fgvc
        } else {
            kind = .imagefolder
        }
        switch kind {
        case .vtab1k:
            let tasks = taskFolders(folder)
            if tasks.isEmpty || VTAB1kDataset.Split.allCases.contains(where: { has("\($0.rawValue).txt") }) {
                return .vtab1kTask(try VTAB1kDataset(folder: folder))
            }
            return .vtab1kRoot(try tasks.map { try VTAB1kDataset(folder: $0) })
        case .fgvc:
            return .fgvc(try FGVCDataset(root: folder.deletingLastPathComponent(), name: folder.lastPathComponent))
        case .imagefolder:
            return .imageFolder(try ImageFolderDataset.load(folder))
        }
    }

    /// Sub-folders holding a VTAB-1k task (a `train800val200.txt`).
    private static func taskFolders(_ folder: URL) -> [URL] {
        ((try? DirectoryListing.sortedEntries(folder)) ?? [])
            .map { folder.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("train800val200.txt").path) }
    }

    /// One split of a layout, read or failed.
    public struct Split {
        public let name: String
        /// The file that defines it (list file, JSON, or the folder itself).
        public let definition: URL
        public let isTraining: Bool
        /// The size the benchmark defines, when it defines one.
        public let expectedCount: Int?
        /// Whether a class may be absent from it without anything being wrong.
        public let mayMissClasses: Bool
        public let files: Result<ImageFileList, Error>
    }

    /// Every split of the layout, reading with `policy` and without the every-class check
    /// (callers report coverage themselves). Catalog VTAB-1k tasks expect the benchmark's
    /// sizes; custom tasks only with `benchmarkSizes` (their test size is unknown either way).
    public func splits(policy: BadSamplePolicy, report: SkipReport, benchmarkSizes: Bool = false) -> [Split] {
        switch self {
        case let .vtab1kTask(task):
            return VTAB1kDataset.Split.allCases.map { split in
                let sized = task.task != nil || benchmarkSizes
                let expected = split == .test ? task.task?.testSize : sized ? VTAB1kCatalog.standard.splitSizes[split.rawValue] : nil
                return Split(name: "\(task.folder.lastPathComponent)/\(split.rawValue)", definition: task.listFile(split),
                             isTraining: split.isTraining, expectedCount: expected, mayMissClasses: task.task?.trainingMayMissClasses ?? false,
                             files: Result { try task.split(split, policy: policy, report: report, checkClasses: false) })
            }
        case let .vtab1kRoot(tasks):
            return tasks.flatMap { DatasetLayout.vtab1kTask($0).splits(policy: policy, report: report, benchmarkSizes: benchmarkSizes) }
        case let .fgvc(dataset):
            return dataset.availableSplits.map { name in
                Split(name: name, definition: dataset.folder.appendingPathComponent("\(name).json"), isTraining: name == "train",
                      expectedCount: FGVCCatalog.standard.task(named: dataset.folder.lastPathComponent)?.splitSizes?[name], mayMissClasses: false,
                      files: Result { try dataset.split(name, policy: policy, report: report, checkClasses: false) })
            }
        case let .imageFolder(files):
            return [Split(name: "all", definition: files.root, isTraining: true, expectedCount: nil, mayMissClasses: false, files: .success(files))]
        }
    }
}
