import Datasets
import Foundation
import XCTest

/// Every kind of bad input is a `DatasetError` naming the file (and line), or — under the
/// explicit skip policy — a counted skip. Never a trap, never a silent black image.
final class BadInputTests: XCTestCase {
    private func fixture(_ name: String) throws -> Data { try Data(contentsOf: DataFixtures.url("images/\(name)")) }

    func testTruncatedAndCorruptImagesAreErrors() throws {
        for name in ["jpeg_420.jpg", "jpeg_progressive.jpg", "png_rgb8.png", "png_interlaced.png"] {
            let data = try fixture(name)
            for cut in [data.count / 3, data.count / 2, data.count - 20] {
                expectDatasetError({ _ = try ImageDecoder.decode(data.prefix(cut), source: "cut/\(name)") },
                                   file: "cut/\(name)", mentions: [])
            }
        }
        var corrupt = try fixture("png_rgb8.png")
        corrupt[100] ^= 0xFF   // inside IDAT: the CRC no longer matches
        expectDatasetError({ _ = try ImageDecoder.decode(corrupt, source: "crc.png") }, file: "crc.png", mentions: ["corrupt PNG"])
        expectDatasetError({ _ = try ImageDecoder.decode(Data("hello, world".utf8), source: "notes.jpg") }, file: "notes.jpg", mentions: ["not a JPEG or PNG"])
        expectDatasetError({ _ = try ImageDecoder.decode(Data(), source: "empty.png") }, file: "empty.png", mentions: ["not a JPEG or PNG"])
        expectDatasetError({ _ = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/nonexistent/x.png")) }, file: "/nonexistent/x.png", mentions: ["cannot read"])
    }

    /// libjpeg pads a truncated scan with grey and reports success with a warning; we refuse.
    func testJPEGWarningIsAnErrorNotAGreyImage() throws {
        let data = try fixture("jpeg_444.jpg")
        let endOfImage = data.count - 2
        expectDatasetError({ _ = try ImageDecoder.decode(data.prefix(endOfImage - 200) + Data([0xFF, 0xD9]), source: "short.jpg") },
                           file: "short.jpg", mentions: ["libjpeg-turbo"])
    }

    func testHugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        var png = try fixture("png_rgb8.png")
        png.replaceSubrange(16..<24, with: [0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00])   // 65536 × 65536
        expectDatasetError({ _ = try ImageDecoder.decode(png, source: "bomb.png") }, file: "bomb.png", mentions: [])
    }

    func testListFileProblemsNameFileAndLine() throws {
        let dir = try temporaryDirectory(self)
        let cases: [(String, Int, [String])] = [
            ("a.png 0\nb.png seven\n", 2, ["'seven' is not an integer"]),
            ("a.png 0\n\nb.png 10\n", 3, ["label 10 is out of range 0..<10"]),
            ("a.png -1\n", 1, ["out of range"]),
            ("../outside.png 1\n", 1, ["'..'"]),
            ("a.png 1\nimages/../../etc/passwd 2\n", 2, ["'..'"]),
            ("/etc/passwd 1\n", 1, ["absolute path"]),
            ("justapath\n", 1, ["expected '<path> <label>'"]),
        ]
        for (n, (text, line, words)) in cases.enumerated() {
            let url = dir.appendingPathComponent("case\(n).txt")
            try TinyDatasets.write(text, to: url)
            expectDatasetError({ _ = try SplitListParser.parse(url, classCount: 10) }, file: "case\(n).txt", line: line, mentions: words)
        }
        try TinyDatasets.write("\n  \n", to: dir.appendingPathComponent("empty.txt"))
        expectDatasetError({ _ = try SplitListParser.parse(dir.appendingPathComponent("empty.txt"), classCount: 10) }, file: "empty.txt", mentions: ["empty"])
        expectDatasetError({ _ = try SplitListParser.parse(dir.appendingPathComponent("absent.txt"), classCount: 10) }, file: "absent.txt", mentions: ["missing"])
    }

    func testSkipPolicyCountsBadLines() throws {
        let dir = try temporaryDirectory(self)
        let url = dir.appendingPathComponent("list.txt")
        try TinyDatasets.write("a.png 0\nb.png x\nc.png 1\n../d.png 2\ne.png 99\n", to: url)
        let report = SkipReport()
        let samples = try SplitListParser.parse(url, classCount: 10, policy: .skip, report: report)
        XCTAssertEqual(samples.map(\.path), ["a.png", "c.png"])
        XCTAssertEqual(report.count, 3)
        XCTAssertTrue(report.entries[0].hasSuffix("list.txt:2: label 'x' is not an integer"), report.entries[0])
        XCTAssertEqual(report.summary, "skipped 3 bad samples")
    }

    func testMissingSplitAndMissingClassAndEscapingSymlink() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "eurosat", classes: 10, perSplit: [.train800: 9, .val200: 2, .test: 3])
        let task = try VTAB1kDataset(folder: folder)
        expectDatasetError({ _ = try task.split(.train800) }, file: "train800.txt", mentions: ["1 of 10 classes have no training sample: 9"])
        XCTAssertEqual(try task.split(.test).count, 3)   // evaluation splits may miss classes
        try FileManager.default.removeItem(at: task.listFile(.val200))
        expectDatasetError({ _ = try task.split(.val200) }, file: "val200.txt", mentions: ["split file is missing"])

        // A symlink inside the folder that points outside it: listed, but never read.
        let secret = root.appendingPathComponent("secret.png")
        try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 0, index: 0)), to: secret)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("images/link.png"), withDestinationURL: secret)
        try TinyDatasets.write("images/link.png 0\nimages/test/000001.png 1\n", to: task.listFile(.test))
        let test = try task.split(.test)
        expectDatasetError({ _ = try test.loadImage(at: 0) }, file: "test.txt", line: 1, mentions: ["symlink escape"])
        XCTAssertNoThrow(try test.loadImage(at: 1))
    }

    /// A symlink loop in an image folder is walked once, not forever.
    func testImageFolderSurvivesASymlinkLoop() throws {
        let root = try temporaryDirectory(self)
        try TinyDatasets.imageFolder(in: root, classes: ["a", "b"], perClass: 2)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("b/loop"), withDestinationURL: root)
        XCTAssertEqual(try ImageFolderDataset.load(root).samples.map(\.path), ["a/0.png", "a/1.png", "b/0.png", "b/1.png"])
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        expectDatasetError({ _ = try ImageFolderDataset.load(root) }, file: "empty", mentions: ["has no JPEG or PNG images"])
    }

    func testLoaderFailsOrSkipsBadImages() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "my_task", classes: 2, perSplit: [.train800: 10, .val200: 0, .test: 0])
        try TinyDatasets.writeFile(Data("garbage".utf8), to: folder.appendingPathComponent("images/train800/000004.png"))
        let pngData = try PNGEncoder.encode(TinyDatasets.image(label: 1, index: 7))
        try TinyDatasets.writeFile(pngData.prefix(pngData.count - 30), to: folder.appendingPathComponent("images/train800/000007.png"))
        let files = try VTAB1kDataset(folder: folder).split(.train800)
        let pipeline = try ImagePipeline.vtab1k(augment: false, interpolation: .bilinear, size: 8)

        let strict = try DataLoader(source: files, pipeline: pipeline, options: DataLoaderOptions(batchSize: 4, shuffle: false, workers: 2))
        let batches = strict.epoch(0)
        XCTAssertNotNil(try batches.next())
        expectDatasetError({ _ = try batches.next() }, file: "000004.png", mentions: ["not a JPEG or PNG", "train800.txt:5"])

        let lenient = try DataLoader(source: files, pipeline: pipeline,
                                     options: DataLoaderOptions(batchSize: 4, shuffle: false, workers: 2, badSamples: .skip))
        let epoch = lenient.epoch(0)
        var seen: [Int] = []
        while let batch = try epoch.next() { seen += batch.indices }
        XCTAssertEqual(seen, [0, 1, 2, 3, 5, 6, 8, 9])
        XCTAssertEqual(lenient.skipped.count, 2)
    }

    func testBadIDXAndGzip() throws {
        let dir = try temporaryDirectory(self)
        let gz = try Data(contentsOf: DataFixtures.url("idx/images-idx3-ubyte.gz"))
        let raw = try Data(contentsOf: DataFixtures.url("idx/images-idx3-ubyte"))
        let cases: [(String, Data, String)] = [
            ("truncated.gz", gz.prefix(gz.count / 2), "truncated gzip"),
            ("corrupt.gz", gz.prefix(10) + Data(repeating: 0xFF, count: 40), "corrupt gzip"),   // block type 3 is invalid
            ("short-idx", raw.prefix(raw.count - 5), "truncated"),
            ("float-idx", Data([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]), "not supported"),
            ("not-idx", Data("P5 28 28".utf8), "not an IDX file"),
        ]
        for (name, data, words) in cases {
            let url = dir.appendingPathComponent(name)
            try TinyDatasets.writeFile(data, to: url)
            expectDatasetError({ _ = try IDXFile(contentsOf: url) }, file: name, mentions: [words])
        }
        expectDatasetError({ _ = try IDXDataset(images: DataFixtures.url("idx/images-idx3-ubyte"), labels: DataFixtures.url("idx/images-idx3-ubyte")) },
                           file: "images-idx3-ubyte", mentions: ["labels must be one-dimensional"])
    }

    func testFGVCBadJSON() throws {
        let root = try temporaryDirectory(self)
        let folder = root.appendingPathComponent("cars")
        try TinyDatasets.write("{\"a.jpg\": 1, \"b.jpg\": \"two\"}", to: folder.appendingPathComponent("train.json"))
        try TinyDatasets.write("{\"c.jpg\": 1}", to: folder.appendingPathComponent("test.json"))
        expectDatasetError({ _ = try FGVCDataset(folder: folder, imageFolder: "") }, file: "train.json", mentions: ["not an integer"])
        try TinyDatasets.write("[1, 2]", to: folder.appendingPathComponent("train.json"))
        expectDatasetError({ _ = try FGVCDataset(folder: folder, imageFolder: "") }, file: "train.json", mentions: ["expected a JSON object"])
        try TinyDatasets.write("{\"../../x.jpg\": 1}", to: folder.appendingPathComponent("train.json"))
        let dataset = try FGVCDataset(folder: folder, imageFolder: "")
        expectDatasetError({ _ = try dataset.split("train") }, file: "train.json", mentions: ["'..'"])
        try FileManager.default.removeItem(at: folder.appendingPathComponent("test.json"))
        expectDatasetError({ _ = try FGVCDataset(folder: folder, imageFolder: "") }, file: "test.json", mentions: ["split file is missing"])
    }
}
