import Foundation

/// What `vpeft data inspect` shows: the layout, each split's size and class balance, class
/// names when known, and image sizes and formats over a sample of files.
public struct DatasetSummary: Sendable {
    public struct SplitSummary: Sendable {
        public let name: String
        public let count: Int
        public let classCount: Int
        /// Fewest and most samples of a class (classes absent from the split count as 0).
        public let smallestClass: Int
        public let largestClass: Int
    }

    public struct SizeStatistics: Sendable {
        public var sampled = 0
        public var widths: [Int] = []
        public var heights: [Int] = []
        public var formats: [String: Int] = [:]
        public var unreadable = 0

        /// "min / median / max" of a list.
        public static func spread(_ values: [Int]) -> String {
            guard !values.isEmpty else { return "-" }
            let s = values.sorted()
            return "\(s[0]) / \(s[s.count / 2]) / \(s[s.count - 1])"
        }
    }

    public let layout: String
    public let splits: [SplitSummary]
    public let problems: [String]
    public let classNames: [String]?
    public let sizes: SizeStatistics

    /// Summarises `folder`, reading the headers of at most `sampleImages` images (spread evenly
    /// over all splits).
    public init(_ folder: URL, expect: DatasetLayout.Kind? = nil, sampleImages: Int = 200) throws {
        let layout = try DatasetLayout.detect(folder, expect: expect)
        var splits: [SplitSummary] = [], problems: [String] = [], lists: [ImageFileList] = []
        for split in layout.splits(policy: .fail, report: SkipReport()) {
            switch split.files {
            case let .success(files):
                let histogram = files.classHistogram
                splits.append(SplitSummary(name: split.name, count: files.count, classCount: files.classCount,
                                           smallestClass: histogram.min() ?? 0, largestClass: histogram.max() ?? 0))
                lists.append(files)
            case let .failure(error):
                problems.append(String(describing: error))
            }
        }
        switch layout {
        case let .vtab1kTask(t): self.layout = "VTAB-1k task \(t.name): \(t.classCount) classes, group \(t.task?.group ?? "custom")"
        case let .vtab1kRoot(ts): self.layout = "VTAB-1k root: \(ts.map(\.name).joined(separator: ", "))"
        case let .fgvc(d): self.layout = "FGVC \(d.folder.lastPathComponent): \(d.classCount) classes"
        case let .imageFolder(f): self.layout = "image folder: \(f.classCount) classes"
        }
        self.splits = splits
        self.problems = problems
        classNames = lists.first?.classNames
        sizes = Self.measure(lists, limit: sampleImages)
    }

    private static func measure(_ lists: [ImageFileList], limit: Int) -> SizeStatistics {
        var stats = SizeStatistics()
        let all = lists.flatMap { list in (0..<list.count).map { (list, $0) } }
        guard !all.isEmpty, limit > 0 else { return stats }
        let step = Swift.max(1, all.count / limit)
        for (list, index) in stride(from: 0, to: all.count, by: step).prefix(limit).map({ all[$0] }) {
            stats.sampled += 1
            guard let url = try? list.url(at: index), let header = ImageHeader.read(url) else { stats.unreadable += 1; continue }
            stats.widths.append(header.width)
            stats.heights.append(header.height)
            stats.formats[header.format.rawValue, default: 0] += 1
        }
        return stats
    }
}
