import Datasets
import Foundation
import XCTest

/// The composited segmentation dataset: masks by construction, disjoint train/test sources,
/// determinism, the list layout `SegmentationDataset` reads, and clear errors.
final class CompositeSegmentationTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("composite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    /// IDX files `<prefix>-images-idx3-ubyte` / `<prefix>-labels-idx1-ubyte`: `labels.count` 8×8 glyphs,
    /// each a filled square whose size depends on its index (grey 255 inside, 0 outside).
    private func writeIDX(_ folder: URL, prefix: String, labels: [UInt8]) throws {
        func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        var images: [UInt8] = [0, 0, 8, 3] + bigEndian(labels.count) + bigEndian(8) + bigEndian(8)
        for i in labels.indices {
            let r = 2 + i % 3
            for y in 0..<8 { for x in 0..<8 { images.append(abs(x - 4) < r && abs(y - 4) < r ? 255 : 0) } }
        }
        try TinyDatasets.writeFile(Data(images), to: folder.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
        try TinyDatasets.writeFile(Data([0, 0, 8, 1] + bigEndian(labels.count) + labels), to: folder.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }

    /// Glyphs (train 6, t10k 4, 3 classes) and 4 uniformly coloured photos in two sub-folders.
    private func sources() throws -> (glyphs: URL, photos: URL) {
        let glyphs = root.appendingPathComponent("idx"), photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: glyphs, withIntermediateDirectories: true)
        try writeIDX(glyphs, prefix: "train", labels: [0, 1, 2, 0, 1, 2])
        try writeIDX(glyphs, prefix: "t10k", labels: [2, 1, 0, 1])
        for (i, sub) in ["a", "a", "b", "b"].enumerated() {
            let photo = RGB8Image(width: 20, height: 16, fill: (UInt8(40 * i + 10), 200, UInt8(255 - 30 * i)))
            let url = photos.appendingPathComponent("\(sub)/photo\(i).png")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try TinyDatasets.writeFile(try PNGEncoder.encode(photo), to: url)
        }
        return (glyphs, photos)
    }

    private func options(seed: UInt64 = 3) -> CompositeSegmentation.Options {
        var o = CompositeSegmentation.Options()
        (o.trainCount, o.testCount, o.imageSize, o.glyphs, o.seed) = (6, 3, 16, 1...3, seed)
        o.classNames = ["zero", "one", "two"]
        return o
    }

    func testPasteLabelsWhatTheGlyphCoversAndBlendsTheRest() {
        var image = RGB8Image(width: 4, height: 3, fill: (100, 50, 0))
        var mask = LabelMap(width: 4, height: 3, labels: [UInt8](repeating: 0, count: 12))
        CompositeSegmentation.paste(glyph: [255, 128, 127, 0], side: 2, x: 1, y: 1, color: (200, 250, 60), label: 7, into: &image, mask: &mask)
        XCTAssertEqual(mask.labels, [0, 0, 0, 0,
                                     0, 7, 7, 0,
                                     0, 0, 0, 0])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[(y * 4 + x) * 3..<(y * 4 + x) * 3 + 3]) }
        XCTAssertEqual(pixel(1, 1), [200, 250, 60])                       // opaque: the glyph colour
        XCTAssertEqual(pixel(2, 1), [150, 150, 30])                       // (100·127 + 200·128 + 127) / 255 …
        XCTAssertEqual(pixel(1, 2), [150, 150, 30])                       // 127: blended, yet background in the mask
        XCTAssertEqual(pixel(2, 2), [100, 50, 0])                         // transparent: untouched
        XCTAssertEqual(pixel(0, 0), [100, 50, 0])
    }

    func testDatasetIsConsistentDisjointAndDeterministic() throws {
        let (glyphs, photos) = try sources()
        let out = root.appendingPathComponent("out")
        let summary = try CompositeSegmentation.generate(glyphs: glyphs, photos: photos, out: out, options: options())
        XCTAssertEqual(summary.classNames, ["background", "zero", "one", "two"])
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("classes.txt"), encoding: .utf8), "background\nzero\none\ntwo\n")
        // Disjoint sources: photos split 3 / 1 (a quarter for test), glyphs from different files.
        XCTAssertEqual(summary.test.photos.count, 1)
        XCTAssertTrue(Set(summary.train.photos).isDisjoint(with: summary.test.photos))
        XCTAssertEqual(Set(summary.train.photos + summary.test.photos), ["a/photo0.png", "a/photo1.png", "b/photo2.png", "b/photo3.png"])
        XCTAssertEqual([summary.train.glyphPool, summary.test.glyphPool], ["train", "test"])

        for (split, info, count) in [("train", summary.train, 6), ("test", summary.test, 3)] {
            let dataset = try SegmentationDataset.list(out.appendingPathComponent("\(split).txt"), numClasses: 4)
            XCTAssertEqual(dataset.samples.count, count)
            let sources = try String(contentsOf: out.appendingPathComponent("\(split)/sources.txt"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            var pixels = [Int](repeating: 0, count: 4)
            for (i, sample) in dataset.samples.enumerated() {
                let image = try ImageDecoder.decode(contentsOf: sample.image), labels = try dataset.labels(of: i)
                XCTAssertEqual([image.width, image.height, labels.width, labels.height], [16, 16, 16, 16])
                // Every label in the mask is background or the class + 1 of a glyph pasted there.
                XCTAssertTrue(info.photos.contains(sources[i][1]), "\(split) image \(i) uses \(sources[i][1])")
                let pasted = Set(sources[i].dropFirst(2).map { UInt8($0.split(separator: ":").last!)! + 1 })
                XCTAssertTrue(Set(labels.labels).isSubset(of: pasted.union([0])), "\(split) \(i): \(Set(labels.labels)) vs pasted \(pasted)")
                XCTAssertTrue(sources[i].dropFirst(2).allSatisfy { $0.hasPrefix("\(info.glyphPool):") })
                for value in labels.labels { pixels[Int(value)] += 1 }
            }
            XCTAssertEqual(pixels, info.classPixels, "\(split): the summary counts the masks written")
            XCTAssertGreaterThan(pixels.dropFirst().reduce(0, +), 0, "\(split): glyphs were pasted")
        }

        let again = root.appendingPathComponent("again"), other = root.appendingPathComponent("other")
        _ = try CompositeSegmentation.generate(glyphs: glyphs, photos: photos, out: again, options: options())
        _ = try CompositeSegmentation.generate(glyphs: glyphs, photos: photos, out: other, options: options(seed: 4))
        for file in ["train.txt", "train/images/00003.png", "train/masks/00003.png", "test/masks/00002.png", "train/sources.txt"] {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(file)), try Data(contentsOf: again.appendingPathComponent(file)), "\(file) is reproducible")
        }
        XCTAssertNotEqual(try Data(contentsOf: out.appendingPathComponent("train/sources.txt")),
                          try Data(contentsOf: other.appendingPathComponent("train/sources.txt")), "another seed composes other images")
    }

    func testBadSourcesAndOptionsAreNamed() throws {
        let (glyphs, photos) = try sources()
        let out = root.appendingPathComponent("out")
        expectDatasetError({ _ = try CompositeSegmentation.generate(glyphs: photos, photos: photos, out: out, options: self.options()) },
                           file: photos.path, mentions: ["train-images-idx3-ubyte"])
        let lonely = root.appendingPathComponent("lonely")
        try FileManager.default.createDirectory(at: lonely, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: photos.appendingPathComponent("a/photo0.png"), to: lonely.appendingPathComponent("only.png"))
        expectDatasetError({ _ = try CompositeSegmentation.generate(glyphs: glyphs, photos: lonely, out: out, options: self.options()) },
                           file: lonely.path, mentions: ["at least 2 background photos"])
        var wrongNames = options()
        wrongNames.classNames = ["one"]
        expectDatasetError({ _ = try CompositeSegmentation.generate(glyphs: glyphs, photos: photos, out: out, options: wrongNames) },
                           file: glyphs.path, mentions: ["1 class names given for 3 glyph classes"])
        var tiny = options()
        tiny.imageSize = 8
        expectDatasetError({ _ = try CompositeSegmentation.generate(glyphs: glyphs, photos: photos, out: out, options: tiny) },
                           file: "composite-segmentation options", mentions: ["image size 8"])
    }
}
