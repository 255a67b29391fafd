import Foundation

/// One labelled image file: its path relative to the dataset root, and where it was listed.
public struct LabeledSample: Equatable, Sendable {
    public let path: String
    public let label: Int
    /// The list file and line that named it (nil for image folders).
    public let listFile: String?
    public let line: Int?

    public init(path: String, label: Int, listFile: String? = nil, line: Int? = nil) {
        self.path = path
        self.label = label
        self.listFile = listFile
        self.line = line
    }
}

/// A split on disk: labelled image files under one root (VTAB-1k lists, FGVC JSON, image
/// folders). Loading an image re-checks that it resolves inside the root, so a symlink swapped
/// in after the list was read still cannot escape.
public struct ImageFileList: LabeledImageSource {
    public let root: URL
    public let samples: [LabeledSample]
    public let classCount: Int
    public let classNames: [String]?
    private let realRoot: String

    public init(root: URL, samples: [LabeledSample], classCount: Int, classNames: [String]? = nil) throws {
        self.root = root
        self.samples = samples
        self.classCount = classCount
        self.classNames = classNames
        realRoot = try PathSafety.realRoot(root, source: root.path)
    }

    public var count: Int { samples.count }
    public func label(at index: Int) -> Int { samples[index].label }
    /// The sample's path under the dataset root (absolute, so two datasets never share one).
    public func identity(at index: Int) -> String { root.standardizedFileURL.path + "/" + samples[index].path }

    /// The checked location of sample `index`.
    public func url(at index: Int) throws -> URL {
        let sample = samples[index]
        return try PathSafety.resolve(sample.path, realRoot: realRoot, source: sample.listFile ?? root.path, line: sample.line)
    }

    public func loadImage(at index: Int) throws -> RGB8Image {
        let file = try url(at: index)
        let data = try ImageDecoder.readFile(file)
        let sample = samples[index]
        do {
            return try ImageDecoder.decode(data, source: file.path)
        } catch let error as DatasetError {
            // Name the list line too, so the user can find the entry to fix.
            let listed = sample.listFile.map { " (listed at \($0)\(sample.line.map { ":\($0)" } ?? ""))" } ?? ""
            throw DatasetError(file: error.file, line: error.line, error.reason + listed)
        }
    }

    /// How many samples each class has.
    public var classHistogram: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for s in samples where s.label >= 0 && s.label < classCount { counts[s.label] += 1 }
        return counts
    }

    /// Throws when a class has no sample: a training split must show the model every class.
    public func requireEveryClass(splitFile: String) throws {
        let missing = classHistogram.enumerated().filter { $0.element == 0 }.map(\.offset)
        guard missing.isEmpty else {
            let names = missing.prefix(10).map { i in classNames.map { "\(i) (\($0[i]))" } ?? "\(i)" }
            throw DatasetError(file: splitFile, "\(missing.count) of \(classCount) classes have no training sample: \(names.joined(separator: ", "))\(missing.count > 10 ? ", …" : "")")
        }
    }
}
