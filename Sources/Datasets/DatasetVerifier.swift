import Foundation

/// What `vpeft data verify` found: split sizes against the benchmark's, and every problem —
/// unreadable lines, labels out of range, paths escaping the root, files that do not decode,
/// classes missing from training, manifest differences.
public struct VerificationReport: Sendable {
    public struct SplitCount: Sendable {
        public let name: String
        public let count: Int?
        public let expected: Int?
    }

    public var layout = ""
    public var splits: [SplitCount] = []
    public var problems: [String] = []
    public var notes: [String] = []
    public var imagesChecked = 0
    public var manifest = ""

    public var passed: Bool { problems.isEmpty }
}

/// Checks a dataset folder end to end (see `VerificationReport`); reads every image once.
public enum DatasetVerifier {
    public static func verify(_ folder: URL, expect: DatasetLayout.Kind? = nil, manifest manifestURL: URL? = nil,
                              threads: Int = 2) throws -> VerificationReport {
        let layout = try DatasetLayout.detect(folder, expect: expect)
        var report = VerificationReport()
        report.layout = describe(layout)
        let lineProblems = SkipReport()
        var unique: [String: (ImageFileList, Int)] = [:]   // absolute image path → where to read it
        var manifestPaths: [String] = []   // list files; images are added once they have been read
        let prefix = folder.standardizedFileURL.path + "/"
        func relative(_ url: URL) -> String? {
            let path = url.standardizedFileURL.path
            return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
        }

        let splits = layout.splits(policy: .skip, report: lineProblems, benchmarkSizes: expect == .vtab1k)
        var listed: [String: [String]] = [:]
        for split in splits {
            switch split.files {
            case let .failure(error):
                report.splits.append(.init(name: split.name, count: nil, expected: split.expectedCount))
                report.problems.append(String(describing: error))
            case let .success(files):
                report.splits.append(.init(name: split.name, count: files.count, expected: split.expectedCount))
                if let expected = split.expectedCount, expected != files.count {
                    report.problems.append("\(split.definition.path): \(files.count) samples, the benchmark's split has \(expected)")
                }
                if split.isTraining { checkClasses(files, split, &report) }
                if let r = relative(split.definition), !DirectoryListing.isDirectory(split.definition) { manifestPaths.append(r) }
                listed[split.name] = files.samples.map { "\($0.path) \($0.label)" }
                for i in 0..<files.count {
                    let path = files.root.appendingPathComponent(files.samples[i].path)
                    if unique[path.standardizedFileURL.path] == nil { unique[path.standardizedFileURL.path] = (files, i) }
                }
            }
        }
        checkCombinedSplit(listed, &report)
        report.problems += lineProblems.entries

        let images = unique.keys.sorted().map { unique[$0]! }
        let decodeProblems = decodeAll(images, threads: threads)
        report.imagesChecked = images.count
        report.problems += decodeProblems.compactMap { $0 }.sorted()
        // Only files that were read safely are hashed (never a path that escapes the folder).
        for (item, problem) in zip(images, decodeProblems) where problem == nil {
            if let r = relative(item.0.root.appendingPathComponent(item.0.samples[item.1].path)) { manifestPaths.append(r) }
        }

        let manifestFile = manifestURL ?? folder.appendingPathComponent(DatasetManifest.defaultFileName)
        let current = try DatasetManifest(hashing: manifestPaths, under: folder, threads: threads)
        if FileManager.default.fileExists(atPath: manifestFile.path) {
            let recorded = try DatasetManifest(contentsOf: manifestFile)
            let (missing, added, changed) = current.differences(from: recorded)
            if missing.isEmpty && added.isEmpty && changed.isEmpty {
                report.manifest = "matches \(manifestFile.path) (\(current.digests.count) files)"
            } else {
                report.manifest = "differs from \(manifestFile.path)"
                report.problems += missing.map { "\($0): listed in the manifest, missing now" }
                report.problems += added.map { "\($0): not in the manifest" }
                report.problems += changed.map { "\($0): SHA-256 differs from the manifest" }
            }
        } else if report.passed {
            try current.write(to: manifestFile)
            report.manifest = "written to \(manifestFile.path) (\(current.digests.count) files)"
        } else {
            report.manifest = "not written (fix the problems first)"
        }
        return report
    }

    private static func describe(_ layout: DatasetLayout) -> String {
        switch layout {
        case let .vtab1kTask(t): return "VTAB-1k task \(t.name) (\(t.classCount) classes, \(t.task?.group ?? "custom"))"
        case let .vtab1kRoot(ts): return "VTAB-1k root with \(ts.count) task\(ts.count == 1 ? "" : "s"): \(ts.map(\.name).joined(separator: ", "))"
        case let .fgvc(d): return "FGVC dataset \(d.folder.lastPathComponent) (\(d.classCount) classes)"
        case let .imageFolder(f): return "image folder (\(f.classCount) classes)"
        }
    }

    private static func checkClasses(_ files: ImageFileList, _ split: DatasetLayout.Split, _ report: inout VerificationReport) {
        do {
            try files.requireEveryClass(splitFile: split.definition.path)
        } catch {
            if split.mayMissClasses {
                report.notes.append("\(error) (expected for this task)")
            } else {
                report.problems.append(String(describing: error))
            }
        }
    }

    /// VTAB-1k's train800val200 is train800 followed by val200: the same lines, as a multiset.
    private static func checkCombinedSplit(_ listed: [String: [String]], _ report: inout VerificationReport) {
        for (name, combined) in listed where name.hasSuffix("/train800val200") {
            let task = String(name.dropLast("/train800val200".count))
            guard let train = listed["\(task)/train800"], let val = listed["\(task)/val200"] else { continue }
            if (train + val).sorted() != combined.sorted() {
                report.problems.append("\(task)/train800val200.txt is not train800.txt plus val200.txt")
            }
        }
    }

    /// The problem of each item (nil when it decoded).
    private static func decodeAll(_ items: [(ImageFileList, Int)], threads: Int) -> [String?] {
        var problems = [String?](repeating: nil, count: items.count)
        let lock = NSLock()
        let workers = Swift.max(1, Swift.min(threads, items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: items.count, by: workers) {
                let (files, index) = items[i]
                do {
                    _ = try files.loadImage(at: index)
                } catch {
                    lock.lock(); problems[i] = String(describing: error); lock.unlock()
                }
            }
        }
        return problems
    }
}
