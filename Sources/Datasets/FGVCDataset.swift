import Foundation

/// An FGVC dataset with VPT's JSON splits: `<root>/<name>/{train,val,test}.json`, each
/// `{"relative/image/path.jpg": class_id}`, images under `<root>/<name>/<imageFolder>`. Class
/// ids are mapped to 0..<C from the sorted union of every split's ids (not per split), as VPT.
public struct FGVCDataset: Sendable {
    public static let splitNames = ["train", "val", "test"]

    public let folder: URL
    public let imageFolder: URL
    /// Original class id of each label (label i ↔ `classIDs[i]`).
    public let classIDs: [Int]
    private let splits: [String: [(path: String, classID: Int)]]

    /// Opens `<root>/<name>`; `imageFolder` defaults to the catalog's (or the dataset folder).
    public init(root: URL, name: String, imageFolder: String? = nil, catalog: FGVCCatalog = .standard) throws {
        try self.init(folder: root.appendingPathComponent(name), imageFolder: imageFolder ?? catalog.task(named: name)?.imageFolder ?? "",
                      expectedClasses: catalog.task(named: name)?.classes)
    }

    public init(folder: URL, imageFolder: String, expectedClasses: Int? = nil) throws {
        var splits: [String: [(String, Int)]] = [:]
        for name in Self.splitNames {
            let url = folder.appendingPathComponent("\(name).json")
            guard FileManager.default.fileExists(atPath: url.path) else {
                if name == "val" { continue }   // VPT's val split is optional (some packs merge it into train)
                throw DatasetError(file: url.path, "split file is missing")
            }
            splits[name] = try Self.readSplit(url)
        }
        let ids = Set(splits.values.flatMap { $0.map(\.1) }).sorted()
        if let expectedClasses, ids.count != expectedClasses {
            throw DatasetError(file: folder.path, "the splits name \(ids.count) classes; \(folder.lastPathComponent) has \(expectedClasses)")
        }
        if !imageFolder.isEmpty, let problem = PathSafety.problem(with: imageFolder) {
            throw DatasetError(file: folder.path, "image folder: \(problem)")
        }
        self.folder = folder
        self.imageFolder = imageFolder.isEmpty ? folder : folder.appendingPathComponent(imageFolder)
        self.classIDs = ids
        self.splits = splits
    }

    public var classCount: Int { classIDs.count }
    public var availableSplits: [String] { Self.splitNames.filter { splits[$0] != nil } }

    /// A split as image files (sorted by path, so the order is the same on every machine).
    /// Training (`train`) must contain every class (unless `checkClasses` is off).
    public func split(_ name: String, policy: BadSamplePolicy = .fail, report: SkipReport = SkipReport(),
                      checkClasses: Bool = true) throws -> ImageFileList {
        let source = folder.appendingPathComponent("\(name).json").path
        guard let entries = splits[name] else { throw DatasetError(file: source, "split file is missing") }
        let labelOf = Dictionary(uniqueKeysWithValues: classIDs.enumerated().map { ($1, $0) })
        var samples: [LabeledSample] = []
        for entry in entries {
            let sample = try policy.attempt(report) { () throws -> LabeledSample in
                if let problem = PathSafety.problem(with: entry.path) { throw DatasetError(file: source, "key '\(entry.path)': \(problem)") }
                return LabeledSample(path: entry.path, label: labelOf[entry.classID]!, listFile: source)
            }
            if let sample { samples.append(sample) }
        }
        guard !samples.isEmpty else { throw DatasetError(file: source, "split is empty") }
        let files = try ImageFileList(root: imageFolder, samples: samples, classCount: classCount, classNames: classIDs.map(String.init))
        if checkClasses && name == "train" { try files.requireEveryClass(splitFile: source) }
        return files
    }

    private static func readSplit(_ url: URL) throws -> [(String, Int)] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: try ImageDecoder.readFile(url))
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError(file: url.path, "not valid JSON: \((error as NSError).localizedDescription)")
        }
        guard let map = object as? [String: Any] else {
            throw DatasetError(file: url.path, "expected a JSON object {\"image path\": class id}")
        }
        var entries: [(String, Int)] = []
        for (path, value) in map {
            guard let classID = value as? Int else {
                throw DatasetError(file: url.path, "class id of '\(path)' is not an integer: \(value)")
            }
            entries.append((path, classID))
        }
        guard !entries.isEmpty else { throw DatasetError(file: url.path, "split is empty") }
        return entries.sorted { $0.0 < $1.0 }
    }
}
