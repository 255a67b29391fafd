import ArgumentParser
import Datasets
import Foundation
import Training

/// `vpeft data …`: look at, check, import and benchmark datasets on disk.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect, verify, import and benchmark datasets (VTAB-1k, FGVC, image folders, IDX, CSV; segmentation: ADE20K, Pascal VOC, list files); extract video frames.",
        discussion: """
            Layouts are recognised from their files: a VTAB-1k task folder holds train800.txt, val200.txt, \
            train800val200.txt and test.txt ('<relative path> <label>' per line); an FGVC dataset holds VPT's \
            train/val/test.json; anything else is read as an image folder (<class>/<image>).
            """,
        subcommands: [DataInspect.self, DataVerify.self, DataImport.self, DataCompositeSegmentation.self, DataExtractFrames.self, DataBench.self])
}

extension DatasetLayout.Kind: ExpressibleByArgument {}

struct DataInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a dataset's layout, splits, class balance and image sizes.",
        discussion: "Image sizes come from the headers of a sample of files spread over all splits (--sample).")

    @Argument(help: "The dataset folder (a VTAB-1k task or root, an FGVC dataset, or an image folder).") var folder: String
    @Option(help: "Read the layout as this kind instead of guessing: vtab1k, fgvc, imagefolder.") var expect: DatasetLayout.Kind?
    @Option(help: "How many image headers to read for the size summary.") var sample = 200

    func run() throws {
        let summary = try DatasetSummary(URL(fileURLWithPath: folder), expect: expect, sampleImages: sample)
        print("\(folder): \(summary.layout)")
        let width = max(5, summary.splits.map(\.name.count).max() ?? 0)
        print("  \("split".padding(toLength: width, withPad: " ", startingAt: 0))  samples  per class (min–max)")
        for s in summary.splits {
            print("  \(s.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(s.count).leftPadded(7))  \(s.smallestClass)–\(s.largestClass) over \(s.classCount) classes")
        }
        for problem in summary.problems { print("  problem: \(problem)") }
        if let names = summary.classNames {
            print("  classes: \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", … (\(names.count))" : "")")
        }
        let sizes = summary.sizes
        print("  images sampled: \(sizes.sampled) (\(sizes.formats.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))\(sizes.unreadable > 0 ? ", \(sizes.unreadable) unreadable" : ""))")
        print("  width  min / median / max: \(DatasetSummary.SizeStatistics.spread(sizes.widths))")
        print("  height min / median / max: \(DatasetSummary.SizeStatistics.spread(sizes.heights))")
    }
}

struct DataVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a dataset: split sizes, every line and label, every image decodes, paths stay inside, manifest.",
        discussion: """
            VTAB-1k splits are compared with the benchmark's sizes (800 / 200 / 1000 and each task's test size). \
            Every image is decoded; paths with '..', absolute paths and symlinks leading outside the folder are \
            problems. The first successful run writes MANIFEST.sha256 (sha256sum format: file list and SHA-256 of \
            each file); later runs compare against it. Exits with status 1 when anything is wrong.
            """)

    @Argument(help: "The dataset folder (a list file with --segmentation list).") var folder: String
    @Option(help: "The layout to expect: vtab1k, fgvc, imagefolder (default: recognised from the files).") var expect: DatasetLayout.Kind?
    @Option(help: "Manifest file to write or compare (default: <folder>/MANIFEST.sha256).") var manifest: String?
    @Option(help: "Threads for decoding and hashing.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Check a segmentation split instead: ade20k, voc, or list (a file of 'image mask' lines). Masks must decode as label maps, match their image's size, and hold only classes or the ignore index 255.") var segmentation: SegmentationLayout?
    @Option(help: "Segmentation split: ADE20K training/validation, VOC train/val/trainval; video --video hmdb51: the official split, 1–3.") var split: String?
    @Option(help: "Segmentation list: number of classes.") var classes: Int?
    @Flag(help: "Segmentation list: mask value 0 is ignored and k becomes k − 1 (ADE20K's convention).") var reduceZeroLabel = false
    @Option(help: "Check a video dataset instead: ssv2 (FOLDER holds labels/ and the videos), hmdb51 (FOLDER holds the split files and class folders; --split 1–3), or list (FOLDER holds classes.txt, train.txt, test.txt). Every video must open and decode at the frames its test views read; every class needs training videos.")
    var video: VideoLayout?
    @Option(help: "Video: frames per clip.") var frames = 16
    @Option(help: "Video: spacing of densely sampled frames.") var frameStride = 4

    enum SegmentationLayout: String, ExpressibleByArgument { case ade20k, voc, list }
    enum VideoLayout: String, ExpressibleByArgument { case ssv2, hmdb51, list }

    func run() throws {
        if let segmentation { return try verifySegmentation(segmentation) }
        if let video { return try verifyVideos(video) }
        let report = try DatasetVerifier.verify(URL(fileURLWithPath: folder), expect: expect,
                                                manifest: manifest.map { URL(fileURLWithPath: $0) }, threads: threads)
        print("\(folder): \(report.layout)")
        for s in report.splits {
            let count = s.count.map(String.init) ?? "unreadable"
            let check = s.expected.map { s.count == $0 ? "ok" : "expected \($0)" } ?? ""
            print("  \(s.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(count.leftPadded(10))  \(check)")
        }
        print("  images decoded: \(report.imagesChecked)")
        for note in report.notes { print("  note: \(note)") }
        print("  manifest: \(report.manifest)")
        try Self.conclude(problems: report.problems)
    }
}

extension DataVerify {
    /// "OK", or the problems (the first 50) and a failing exit status.
    static func conclude(problems: [String]) throws {
        guard !problems.isEmpty else { return print("OK") }
        print("\(problems.count) problem\(problems.count == 1 ? "" : "s"):")
        for p in problems.prefix(50) { print("  \(p)") }
        if problems.count > 50 { print("  … \(problems.count - 50) more") }
        throw ExitCode.failure
    }

    private func verifySegmentation(_ layout: SegmentationLayout) throws {
        let url = URL(fileURLWithPath: folder)
        let dataset: SegmentationDataset
        switch layout {
        case .ade20k: dataset = try .ade20k(root: url, split: split ?? "validation")
        case .voc: dataset = try .pascalVOC(root: url, split: split ?? "val")
        case .list:
            guard let classes else { throw ValidationError("--segmentation list needs --classes") }
            dataset = try .list(url, numClasses: classes, reduceZeroLabel: reduceZeroLabel)
        }
        let report = SegmentationVerification.verify(dataset)
        print("\(folder): segmentation \(report.dataset), \(dataset.numClasses) classes\(dataset.reduceZeroLabel ? ", reduce-zero-label" : "")")
        print("  pairs checked: \(report.pairsChecked)")
        let absent = report.classPixels.enumerated().filter { $0.element == 0 }.map { String($0.offset) }
        print("  labelled pixels: \(report.classPixels.reduce(0, +)), ignored: \(report.ignoredPixels)")
        if !absent.isEmpty { print("  note: classes with no pixel: \(absent.prefix(30).joined(separator: ", "))\(absent.count > 30 ? ", … (\(absent.count))" : "")") }
        try Self.conclude(problems: report.problems)
    }
}

extension DataVerify {
    /// The dataset as `vpeft train` would read it (`VideoTrainingData`), checked video by video.
    private func verifyVideos(_ layout: VideoLayout) throws {
        let url = URL(fileURLWithPath: folder).standardizedFileURL
        var config = TrainingConfig()
        (config.frames, config.frameStride) = (frames, frameStride)
        let (suite, root, name): (String, URL, String) = switch layout {
        case .ssv2: ("ssv2", url.deletingLastPathComponent(), url.lastPathComponent)
        case .hmdb51: ("hmdb51", url, "split\(split ?? "1")")
        case .list: ("videolist", url.deletingLastPathComponent(), url.lastPathComponent)
        }
        let data = try VideoTrainingData(suite: suite, name: name, root: root, config: config, size: 224, normalization: .imagenet)
        let splits = data.splits
        print("\(folder): \(layout.rawValue), \(splits.classCount) classes, \(splits.train.count) training and \(splits.test.count) test videos")
        let report = VideoVerification.verify(splits)
        print("  videos checked: \(report.videosChecked)")
        if let counts = report.frameCounts {
            print(String(format: "  frames per video: %d–%d (mean %.1f)", counts.min, counts.max, counts.mean))
        }
        if report.shortVideos > 0 { print("  note: \(report.shortVideos) videos are shorter than one clip's span; their clips repeat frames") }
        try Self.conclude(problems: report.problems)
    }
}

extension CSVImageFormat.LabelColumn: ExpressibleByArgument {}
extension CSVImageFormat.Header: ExpressibleByArgument {}

struct DataImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn IDX files, a CSV of grey images or an image folder into a VTAB-1k-style task (800 / 200 / test splits).",
        discussion: """
            IDX: SOURCE holds train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (and optionally a t10k- or \
            test- pair for the test split); images are written as PNG. CSV: SOURCE is a .csv or .csv.gz file with one \
            image per row, --width × --height pixel values (0 to --max-value, scaled to 0–255) and an integer label in \
            the first or last column (--label-column); images are written as grey PNGs and the test split comes from \
            the rows left over. Image folder: SOURCE/<class>/<image>; files are copied unchanged after checking they \
            decode. Train and val images are chosen class-balanced from a seeded shuffle. \
            Examples: vpeft data import /usr/share/datasets/fashion-mnist --out data --name fashion_mnist; \
            vpeft data import assets/mnist/mnist_5k.csv.gz --format csv --out data --name mnist --test 500
            """)

    @Argument(help: "IDX folder, CSV file or image folder.") var source: String
    @Option(help: "Output root; the task is written to <out>/<name>.") var out: String
    @Option(help: "Task folder name.") var name: String
    @Option(help: "\(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: csv for a .csv[.gz] file, idx when SOURCE holds IDX files).") var format: ImportFormat?
    @Option(help: "Training images.") var train = 800
    @Option(help: "Validation images.") var val = 200
    @Option(help: "Test images (default: the whole test pool, or everything left).") var test: Int?
    @Option(help: "Seed of the selection.") var seed: UInt64 = 42
    @Flag(help: "Leave out images that do not decode, or bad CSV rows (counted), instead of stopping.") var skipBad = false
    @Option(help: "CSV: image width in pixels.") var width = 28
    @Option(help: "CSV: image height in pixels.") var height = 28
    @Option(help: "CSV: where the label is: first or last.") var labelColumn: CSVImageFormat.LabelColumn = .last
    @Option(help: "CSV: header line: auto (a first line with a non-number is a header), yes or no.") var header: CSVImageFormat.Header = .auto
    @Option(help: "CSV: the pixel value meaning white (255; 16 for scikit-learn's digits); scaled to 255.") var maxValue = 255

    func run() throws {
        let sourceURL = URL(fileURLWithPath: source), outURL = URL(fileURLWithPath: out)
        let options = ImportOptions(name: name, trainCount: train, valCount: val, testCount: test, seed: seed,
                                    badSamples: skipBad ? .skip : .fail)
        let kind = format ?? guessFormat()
        let summary: ImportSummary
        switch kind {
        case .idx: summary = try DatasetImporter.importIDX(from: sourceURL, into: outURL, options: options)
        case .csv:
            let csv = CSVImageFormat(width: width, height: height, labelColumn: labelColumn, header: header, maxValue: maxValue)
            summary = try DatasetImporter.importCSV(from: sourceURL, into: outURL, options: options, format: csv)
        case .imagefolder: summary = try DatasetImporter.importImageFolder(from: sourceURL, into: outURL, options: options)
        }
        for note in summary.notes { print(note) }
        print("wrote \(summary.folder.path): train800 \(summary.trainCount), val200 \(summary.valCount), test \(summary.testCount), \(summary.classCount) classes")
        if summary.skipped.count > 0 {
            print(summary.skipped.summary + ":")
            for entry in summary.skipped.entries.prefix(50) { print("  \(entry)") }
            if summary.skipped.count > 50 { print("  … \(summary.skipped.count - 50) more") }
        }
    }

    private func guessFormat() -> ImportFormat {
        let lower = source.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") { return .csv }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
        return entries.contains { $0.contains("-idx") } ? .idx : .imagefolder
    }
}

struct DataCompositeSegmentation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "composite-segmentation",
        abstract: "Build a segmentation dataset whose masks are known by construction: IDX glyphs pasted onto crops of real photos.",
        discussion: """
            Each image is a random square crop of a background photo, resized to --size, with --min-glyphs to \
            --max-glyphs grey glyphs from the IDX source pasted in random colours at random positions and sizes; a mask \
            pixel is glyph class + 1 where a glyph covers it (grey value ≥ 128), 0 elsewhere. Train and test use \
            disjoint photos and disjoint glyphs (the IDX train and t10k files). Writes train.txt / test.txt ('image mask' \
            lines), {train,test}/images|masks/*.png, {train,test}/sources.txt and classes.txt; check it with \
            vpeft data verify OUT/train.txt --segmentation list --classes <glyph classes + 1>. \
            Example: vpeft data composite-segmentation --glyphs /usr/share/datasets/fashion-mnist \
            --photos assets/textile_images --out data/seg-demo
            """)

    @Option(help: "IDX folder with train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz] (and a t10k- pair for the test glyphs).") var glyphs = "/usr/share/datasets/fashion-mnist"
    @Option(help: "Folder of background photos (JPEG or PNG, searched recursively).") var photos: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "Training images.") var train = 300
    @Option(help: "Test images.") var test = 100
    @Option(help: "Image side in pixels.") var size = 112
    @Option(help: "Fewest glyphs per image.") var minGlyphs = 2
    @Option(help: "Most glyphs per image.") var maxGlyphs = 4
    @Option(help: "Share of the photos kept for the test split.") var testPhotos = 0.25
    @Option(help: "Comma-separated glyph class names for classes.txt (default class_0, class_1, …).") var classNames: String?
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 0

    func run() throws {
        guard minGlyphs >= 1 && maxGlyphs >= minGlyphs else { throw ValidationError("--min-glyphs \(minGlyphs) / --max-glyphs \(maxGlyphs): need 1 ≤ min ≤ max") }
        var options = CompositeSegmentation.Options()
        (options.trainCount, options.testCount, options.imageSize, options.glyphs) = (train, test, size, minGlyphs...maxGlyphs)
        (options.testPhotoFraction, options.seed) = (testPhotos, seed)
        options.classNames = classNames.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let summary = try CompositeSegmentation.generate(glyphs: URL(fileURLWithPath: glyphs), photos: URL(fileURLWithPath: photos),
                                                         out: URL(fileURLWithPath: out), options: options)
        for (name, split) in [("train", summary.train), ("test", summary.test)] {
            let total = max(1, split.classPixels.reduce(0, +))
            let covered = 100 * Double(total - split.classPixels[0]) / Double(total)
            print("\(out)/\(name).txt: \(split.images) images from \(split.photos.count) photos, \(split.glyphsUsed.count) glyphs of the IDX \(split.glyphPool) pool, \(String(format: "%.1f", covered)) % glyph pixels")
        }
        print("\(summary.classNames.count) classes (\(summary.classNames.joined(separator: ", "))): verify with vpeft data verify \(out)/train.txt --segmentation list --classes \(summary.classNames.count)")
    }
}

/// What `vpeft data import` reads.
enum ImportFormat: String, ExpressibleByArgument, CaseIterable {
    case idx, csv, imagefolder
}

struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure input-pipeline throughput (images/s) on the JPEG/PNG files under a folder.",
        discussion: """
            Files are read into memory first, so the numbers are decode + resize + normalise speed, not disk speed. \
            Each stage runs on each thread count; the last rows run the DataLoader itself (one epoch, no cache). \
            With --augment the full-pipeline and loader rows include VTAB-1k's flip + RandAugment. \
            Example: vpeft data bench textile_images --size 224 --threads 1,2
            """)

    @Argument(help: "Folder searched recursively for .jpg/.jpeg/.png files.") var folder: String
    @Option(help: "Output size (square), as VTAB's resize to 224×224.") var size = 224
    @Option(help: "\(Interpolation.allCases.map(\.rawValue).joined(separator: " or ")).") var interpolation = Interpolation.bicubic
    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "At most this many files.") var limit = 500
    @Option(help: "Minimum seconds per measurement.") var seconds = 3.0
    @Flag(help: "Use VTAB-1k's training pipeline (flip + RandAugment rand-m9-mstd0.5-inc1) in the full-pipeline rows.") var augment = false

    func run() throws {
        let filter = interpolation
        let counts = threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !counts.isEmpty else { throw ValidationError("--threads needs positive integers, e.g. 1,2") }
        let root = URL(fileURLWithPath: folder)
        let paths = Array(findImages(root).prefix(limit))
        guard !paths.isEmpty else { throw ValidationError("no .jpg/.jpeg/.png files under \(folder)") }
        let files = try paths.map { try Data(contentsOf: root.appendingPathComponent($0)) }
        let pipeline = try ImagePipeline.vtab1k(augment: augment, interpolation: filter, size: size)
        let megabytes = Double(files.reduce(0) { $0 + $1.count }) / 1e6
        print("\(files.count) files (\(String(format: "%.1f", megabytes)) MB) from \(folder); resize \(size)×\(size) \(filter.rawValue)\(augment ? ", flip + RandAugment" : ""), ImageNet normalisation")
        print("  \("stage".padding(toLength: 26, withPad: " ", startingAt: 0)) threads    images/s")
        for stage in DecodeBenchmark.Stage.allCases {
            for n in counts {
                let m = try DecodeBenchmark.measure(stage, files: files, pipeline: pipeline, threads: n, minimumSeconds: seconds)
                print("  \(m.stage.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(n).leftPadded(7)) \(String(format: "%11.1f", m.imagesPerSecond))")
            }
        }
        let source = try ImageFileList(root: root, samples: paths.map { LabeledSample(path: $0, label: 0) }, classCount: 1)
        for n in counts {
            let m = try DecodeBenchmark.measureLoader(source: source, pipeline: pipeline, workers: n, batchSize: 32)
            print("  \(m.stage.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(n).leftPadded(7)) \(String(format: "%11.1f", m.imagesPerSecond))")
        }
    }

    private func findImages(_ root: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
