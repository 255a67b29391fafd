import Datasets
import Foundation
import XCTest

/// The library side of `vpeft data verify / import / inspect`.
final class DatasetToolTests: XCTestCase {
    func testVerifyWritesThenChecksTheManifest() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "my_task", classes: 3)
        let first = try DatasetVerifier.verify(folder)
        XCTAssertTrue(first.passed, "\(first.problems)")
        XCTAssertEqual(first.imagesChecked, 18)
        XCTAssertTrue(first.manifest.hasPrefix("written"), first.manifest)
        XCTAssertEqual(first.splits.map(\.count), [8, 4, 12, 6])
        XCTAssertEqual(first.splits.map(\.expected), [nil, nil, nil, nil])   // a custom task has no benchmark sizes…
        let strict = try DatasetVerifier.verify(folder, expect: .vtab1k, manifest: root.appendingPathComponent("other.sha256"))
        XCTAssertEqual(strict.splits.map(\.expected), [800, 200, 1000, nil])   // …unless it must be VTAB-1k-shaped
        XCTAssertEqual(strict.problems.count, 3)
        let manifest = try DatasetManifest(contentsOf: folder.appendingPathComponent(DatasetManifest.defaultFileName))
        XCTAssertEqual(manifest.digests.count, 18 + 4)
        XCTAssertEqual(manifest.digests["test.txt"], try SHA256.hexDigest(ofFile: folder.appendingPathComponent("test.txt")))

        XCTAssertTrue(try DatasetVerifier.verify(folder).manifest.hasPrefix("matches"))
        // Same size, different pixels: only the hash notices.
        try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 2, index: 99)), to: folder.appendingPathComponent("images/test/000002.png"))
        let changed = try DatasetVerifier.verify(folder)
        XCTAssertFalse(changed.passed)
        XCTAssertEqual(changed.problems, ["images/test/000002.png: SHA-256 differs from the manifest"])
    }

    func testVerifyReportsEveryProblem() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "eurosat", classes: 10, perSplit: [.train800: 10, .val200: 2, .test: 3])
        try TinyDatasets.writeFile(Data("broken".utf8), to: folder.appendingPathComponent("images/test/000001.png"))
        try TinyDatasets.write("images/test/000000.png 0\nimages/test/000001.png 1\n../escape.png 2\nimages/test/000002.png 12\n",
                               to: folder.appendingPathComponent("test.txt"))
        try TinyDatasets.write("images/val200/000000.png 0\n", to: folder.appendingPathComponent("val200.txt"))
        let report = try DatasetVerifier.verify(folder, expect: .vtab1k)
        XCTAssertFalse(report.passed)
        let text = report.problems.joined(separator: "\n")
        for expected in ["train800.txt: 10 samples, the benchmark's split has 800", "test.txt: 2 samples, the benchmark's split has 5400",
                         "test.txt:3: path '../escape.png' has a '..' component", "test.txt:4: label 12 is out of range 0..<10",
                         "000001.png: not a JPEG or PNG image", "train800val200.txt is not train800.txt plus val200.txt"] {
            XCTAssertTrue(text.contains(expected), "missing '\(expected)' in:\n\(text)")
        }
        XCTAssertEqual(report.manifest, "not written (fix the problems first)")
    }

    func testImportIDXBuildsABalancedVTABTask() throws {
        let out = try temporaryDirectory(self)
        let summary = try DatasetImporter.importIDX(from: try idxSource(), into: out,
                                                    options: ImportOptions(name: "tiny_idx", trainCount: 6, valCount: 3, testCount: nil, seed: 1))
        XCTAssertEqual([summary.trainCount, summary.valCount, summary.testCount, summary.classCount], [6, 3, 3, 3])
        let task = try VTAB1kDataset(folder: summary.folder)
        let train = try task.split(.train800)
        XCTAssertEqual(train.classHistogram, [2, 2, 2])
        XCTAssertEqual(try task.split(.val200).classHistogram, [1, 1, 1])
        XCTAssertEqual(try task.split(.train800val200).count, 9)
        XCTAssertEqual(try task.split(.test).count, 3)
        // The written PNG is the IDX image, grey replicated to RGB.
        let idx = try IDXDataset(images: DataFixtures.url("idx/images-idx3-ubyte"), labels: DataFixtures.url("idx/labels-idx1-ubyte.gz"))
        let first = try train.loadImage(at: 0)
        XCTAssertTrue((0..<idx.count).contains { try! idx.loadImage(at: $0) == first })
        // Seeded: the same seed writes the same lists.
        let again = try temporaryDirectory(self)
        let second = try DatasetImporter.importIDX(from: try idxSource(), into: again,
                                                   options: ImportOptions(name: "tiny_idx", trainCount: 6, valCount: 3, seed: 1))
        XCTAssertEqual(try String(contentsOf: summary.folder.appendingPathComponent("train800.txt"), encoding: .utf8),
                       try String(contentsOf: second.folder.appendingPathComponent("train800.txt"), encoding: .utf8))
        XCTAssertThrowsError(try DatasetImporter.importIDX(from: try idxSource(), into: out, options: ImportOptions(name: "tiny_idx")))
        XCTAssertTrue(try DatasetVerifier.verify(summary.folder).passed)
    }

    func testImportImageFolderCopiesFilesAndNames() throws {
        let source = try temporaryDirectory(self), out = try temporaryDirectory(self)
        try TinyDatasets.imageFolder(in: source, classes: ["cat", "dog"], perClass: 7)
        try TinyDatasets.writeFile(Data("oops".utf8), to: source.appendingPathComponent("dog/bad.png"))
        XCTAssertThrowsError(try DatasetImporter.importImageFolder(from: source, into: out, options: ImportOptions(name: "pets", trainCount: 4, valCount: 2)))
        let summary = try DatasetImporter.importImageFolder(from: source, into: out,
                                                            options: ImportOptions(name: "pets", trainCount: 4, valCount: 2, badSamples: .skip))
        XCTAssertEqual(summary.skipped.count, 1)
        XCTAssertEqual(summary.testCount, 8)
        let task = try VTAB1kDataset(folder: summary.folder)
        XCTAssertEqual(task.classNames, ["cat", "dog"])
        let summaryView = try DatasetSummary(summary.folder)
        XCTAssertEqual(summaryView.splits.map(\.count), [4, 2, 6, 8])
        XCTAssertEqual(summaryView.sizes.widths.first, 12)
        XCTAssertEqual(summaryView.sizes.formats["png"], summaryView.sizes.sampled)
    }

    /// A folder holding the fixture IDX pair under Fashion-MNIST's file names.
    private func idxSource() throws -> URL {
        let dir = try temporaryDirectory(self)
        try FileManager.default.copyItem(at: DataFixtures.url("idx/images-idx3-ubyte.gz"), to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try FileManager.default.copyItem(at: DataFixtures.url("idx/labels-idx1-ubyte.gz"), to: dir.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        return dir
    }
}
