import Foundation
import Tensor

/// Settings of `vpeft data import`.
public struct ImportOptions: Sendable {
    /// Folder name of the new task under the output root.
    public var name: String
    public var trainCount: Int
    public var valCount: Int
    /// Test images; nil takes the whole test pool (or everything not used for training).
    public var testCount: Int?
    public var seed: UInt64
    public var badSamples: BadSamplePolicy

    public init(name: String, trainCount: Int = 800, valCount: Int = 200, testCount: Int? = nil, seed: UInt64 = 42,
                badSamples: BadSamplePolicy = .fail) {
        self.name = name
        self.trainCount = trainCount
        self.valCount = valCount
        self.testCount = testCount
        self.seed = seed
        self.badSamples = badSamples
    }
}

/// What an import wrote.
public struct ImportSummary: Sendable {
    public let folder: URL
    public let trainCount: Int
    public let valCount: Int
    public let testCount: Int
    public let classCount: Int
    public let skipped: SkipReport
    /// What the reader noticed about the source (e.g. the CSV layout it read), for the log.
    public var notes: [String] = []
}

/// Turns IDX files, a CSV of grey images or an image folder into the VTAB-1k processed layout
/// (`train800.txt`, `val200.txt`, `train800val200.txt`, `test.txt`, images under
/// `images/{train,test}/`), with seeded, class-balanced train/val selection. IDX and CSV images
/// are written as grey PNGs; image-folder files are copied byte for byte (after checking they decode).
public enum DatasetImporter {
    /// One importable image: its label and how to produce its file.
    private struct Item {
        let label: Int
        let fileExtension: String
        let bytes: () throws -> Data
    }

    /// `source` holds `train-images-idx3-ubyte[.gz]` / `train-labels-idx1-ubyte[.gz]` and
    /// optionally a `t10k-` (or `test-`) pair for the test split.
    public static func importIDX(from source: URL, into root: URL, options: ImportOptions) throws -> ImportSummary {
        guard let train = try idxPair(in: source, prefix: "train") else {
            throw DatasetError(file: source.path, "no train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz] pair")
        }
        let test = try idxPair(in: source, prefix: "t10k") ?? idxPair(in: source, prefix: "test")
        return try write(trainPool: items(train), testPool: test.map(items), classNames: nil, into: root, options: options, skipped: SkipReport())
    }

    public static func importImageFolder(from source: URL, into root: URL, options: ImportOptions) throws -> ImportSummary {
        let files = try ImageFolderDataset.load(source)
        let skipped = SkipReport()
        var pool: [Item] = []
        for i in 0..<files.count {
            let checked = try options.badSamples.attempt(skipped) { () throws -> Item in
                let url = try files.url(at: i)
                let data = try ImageDecoder.readFile(url)
                _ = try ImageDecoder.decode(data, source: url.path)
                let ext = data.withUnsafeBytes { ImageFormat.sniff($0) } == .png ? "png" : "jpg"
                return Item(label: files.label(at: i), fileExtension: ext, bytes: { data })
            }
            if let checked { pool.append(checked) }
        }
        return try write(trainPool: pool, testPool: nil, classNames: files.classNames, into: root, options: options, skipped: skipped)
    }

    /// `source` is a CSV file (optionally gzip-compressed) with one image per row (see
    /// `CSVImageTable`). It has no separate test split: test images come from the rows not chosen
    /// for train/val. Bad rows stop the import, or are skipped and counted under `.skip`.
    public static func importCSV(from source: URL, into root: URL, options: ImportOptions,
                                 format: CSVImageFormat = CSVImageFormat()) throws -> ImportSummary {
        let skipped = SkipReport()
        let table = try CSVImageTable(contentsOf: source, format: format, badRows: options.badSamples, skipped: skipped)
        let pool = table.rows.map { row in
            Item(label: row.label, fileExtension: "png", bytes: {
                try PNGEncoder.encodeGray(row.pixels, width: format.width, height: format.height)
            })
        }
        var summary = try write(trainPool: pool, testPool: nil, classNames: nil, into: root, options: options, skipped: skipped)
        summary.notes.append("read \(table.description) from \(source.lastPathComponent)")
        if summary.classCount < 2 {
            summary.notes.append("warning: every row has label \(table.rows[0].label); is --label-column \(format.labelColumn == .last ? "first" : "last") meant?")
        }
        return summary
    }

    static func idxPair(in folder: URL, prefix: String) throws -> IDXDataset? {
        let names = try DirectoryListing.sortedEntries(folder)
        guard let images = names.first(where: { $0.hasPrefix("\(prefix)-images") }),
              let labels = names.first(where: { $0.hasPrefix("\(prefix)-labels") }) else { return nil }
        return try IDXDataset(images: folder.appendingPathComponent(images), labels: folder.appendingPathComponent(labels))
    }

    private static func items(_ idx: IDXDataset) -> [Item] {
        (0..<idx.count).map { i in
            Item(label: idx.label(at: i), fileExtension: "png", bytes: {
                let (w, h) = idx.imageSize
                if let gray = idx.grayPixels(at: i) { return try PNGEncoder.encodeGray(Array(gray), width: w, height: h) }
                return try PNGEncoder.encode(try idx.loadImage(at: i))
            })
        }
    }

    private static func write(trainPool: [Item], testPool: [Item]?, classNames: [String]?, into root: URL,
                              options: ImportOptions, skipped: SkipReport) throws -> ImportSummary {
        let folder = root.appendingPathComponent(options.name)
        guard !options.name.isEmpty, !options.name.contains("/"), options.name != ".", options.name != ".." else {
            throw DatasetError(file: root.path, "task name '\(options.name)' must be a single folder name")
        }
        if FileManager.default.fileExists(atPath: folder.path), !((try? DirectoryListing.sortedEntries(folder)) ?? []).isEmpty {
            throw DatasetError(file: folder.path, "output folder exists and is not empty (refusing to overwrite)")
        }
        let wanted = options.trainCount + options.valCount
        guard options.trainCount > 0, options.valCount > 0, trainPool.count >= wanted else {
            throw DatasetError(file: folder.path, "need \(wanted) training images (train \(options.trainCount) + val \(options.valCount)), the source has \(trainPool.count)")
        }
        var rng = SeededRandom(seed: options.seed).derived("import")
        let trainOrder = BalancedSampler.roundRobin(labels: trainPool.map(\.label), pool: Array(trainPool.indices), rng: &rng)
        let trainVal = Array(trainOrder[0..<wanted])
        let testItems: [Item]
        if let testPool {
            let order = options.testCount.map { count in
                Array(BalancedSampler.roundRobin(labels: testPool.map(\.label), pool: Array(testPool.indices), rng: &rng).prefix(count))
            } ?? Array(testPool.indices)
            testItems = order.sorted().map { testPool[$0] }
        } else {
            let rest = trainOrder[wanted...]
            testItems = Array(rest.prefix(options.testCount ?? rest.count)).sorted().map { trainPool[$0] }
        }
        guard !testItems.isEmpty else { throw DatasetError(file: folder.path, "no images left for the test split") }
        if let requested = options.testCount, testItems.count < requested {
            throw DatasetError(file: folder.path, "asked for \(requested) test images, only \(testItems.count) are available")
        }

        let fm = FileManager.default
        for sub in ["images/train", "images/test"] {
            try fm.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        func store(_ items: [Item], in split: String) throws -> [String] {
            try items.enumerated().map { n, item in
                let path = String(format: "images/%@/%06d.%@", split, n, item.fileExtension)
                let url = folder.appendingPathComponent(path)
                try FileOutput.write(try item.bytes(), to: url)
                return "\(path) \(item.label)"
            }
        }
        let trainLines = try store(trainVal.map { trainPool[$0] }, in: "train")
        let testLines = try store(testItems, in: "test")
        func list(_ name: String, _ lines: ArraySlice<String>) throws {
            try FileOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("\(name).txt"))
        }
        try list("train800", trainLines[0..<options.trainCount])
        try list("val200", trainLines[options.trainCount...])
        try list("train800val200", trainLines[...])
        try list("test", testLines[...])
        if let classNames {
            try FileOutput.write(Data((classNames.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("classes.txt"))
        }
        let classCount = Set(trainPool.map(\.label) + (testPool ?? []).map(\.label)).count
        return ImportSummary(folder: folder, trainCount: options.trainCount, valCount: options.valCount,
                             testCount: testItems.count, classCount: classCount, skipped: skipped)
    }
}
