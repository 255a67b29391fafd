import Datasets
import Foundation
import Tensor
import XCTest

/// Mask decoding (indices, not colours), the ADE20K / Pascal VOC / list layouts with their label
/// conventions, and mask verification — on PIL-made masks and tiny datasets written here.
final class SegmentationDatasetTests: XCTestCase {
    private let fixtures = DataFixtures.folder.appendingPathComponent("segmentation")

    /// 8-bit and 4-bit palette PNGs and an optimised grey PNG decode to what PIL reads.
    func testMasksDecodeToPILIndices() throws {
        let expected = try SafeTensors.read(fixtures.appendingPathComponent("labels.safetensors")).tensors
        for name in ["voc_palette", "palette_4bit", "gray_ade"] {
            let map = try LabelMap(contentsOf: fixtures.appendingPathComponent("\(name).png"))
            let reference = try XCTUnwrap(expected[name])
            XCTAssertEqual([map.height, map.width], reference.shape, name)
            XCTAssertEqual(map.labels.map(Int.init), reference.scalars.map { Int($0) }, name)
        }
    }

    /// libpng picks a filter per row for grey images; every filter type must undo exactly.
    func testGreyMasksWithEveryFilterRoundTrip() throws {
        let (w, h) = (29, 17)
        let labels = (0..<(w * h)).map { UInt8(($0 * 7 + ($0 / w) * 13) % 151) }
        let root = try temporaryDirectory(self)
        let file = root.appendingPathComponent("grey.png")
        try TinyDatasets.writeFile(PNGEncoder.encodeGray(labels, width: w, height: h), to: file)
        XCTAssertEqual(try LabelMap(contentsOf: file), LabelMap(width: w, height: h, labels: labels))
        let palette = root.appendingPathComponent("palette.png")
        try TinyDatasets.writeFile(PNGLabelEncoder.encode(LabelMap(width: w, height: h, labels: labels)), to: palette)
        XCTAssertEqual(try LabelMap(contentsOf: palette), LabelMap(width: w, height: h, labels: labels))
    }

    func testRGBMasksAreRefused() throws {
        let root = try temporaryDirectory(self)
        let file = root.appendingPathComponent("rgb.png")
        try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 1, index: 0)), to: file)
        XCTAssertThrowsError(try LabelMap(contentsOf: file)) { error in
            XCTAssertTrue("\(error)".contains("colour type 2") && "\(error)".contains(file.path), "\(error)")
        }
    }

    func testReduceZeroLabel() {
        let map = LabelMap(width: 4, height: 1, labels: [0, 1, 150, 255]).reducingZeroLabel()
        XCTAssertEqual(map.labels, [255, 0, 149, 255])
    }

    func testADE20KLayout() throws {
        let root = try temporaryDirectory(self)
        let base = root.appendingPathComponent("ADEChallengeData2016")
        for split in ["training", "validation"] {
            for folder in ["images", "annotations"] {
                try FileManager.default.createDirectory(at: base.appendingPathComponent("\(folder)/\(split)"), withIntermediateDirectories: true)
            }
        }
        for i in 1...2 {
            let stem = "ADE_val_0000000\(i)"
            try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: i, index: i)),
                                       to: base.appendingPathComponent("images/validation/\(stem).jpg"))  // decoders sniff the bytes
            try TinyDatasets.writeFile(PNGEncoder.encodeGray([UInt8](repeating: UInt8(i), count: 120), width: 12, height: 10),
                                       to: base.appendingPathComponent("annotations/validation/\(stem).png"))
        }
        let dataset = try SegmentationDataset.ade20k(root: root, split: "validation")
        XCTAssertEqual(dataset.samples.count, 2)
        XCTAssertEqual(dataset.numClasses, 150)
        XCTAssertEqual(try dataset.labels(of: 1).labels.first, 1)  // stored 2 → class 1
        let report = SegmentationVerification.verify(dataset)
        XCTAssertTrue(report.passed, "\(report.problems)")
        XCTAssertEqual(report.classPixels[0], 120)
        XCTAssertEqual(report.classPixels[1], 120)

        try FileManager.default.removeItem(at: base.appendingPathComponent("annotations/validation/ADE_val_00000002.png"))
        XCTAssertThrowsError(try SegmentationDataset.ade20k(root: root, split: "validation")) { error in
            XCTAssertTrue("\(error)".contains("ADE_val_00000002.png"), "\(error)")
        }
        XCTAssertThrowsError(try SegmentationDataset.ade20k(root: root, split: "val"))
    }

    /// VOC masks: palette indices with 255 boundaries pass; a wrong size and a label past the
    /// 21 classes are problems naming the mask.
    func testPascalVOCLayoutAndVerification() throws {
        let root = try temporaryDirectory(self).appendingPathComponent("VOC2012")
        for folder in ["JPEGImages", "SegmentationClass", "ImageSets/Segmentation"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let names = ["2007_000032", "2007_000033", "2007_000039"]
        for (i, name) in names.enumerated() {
            try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: i, index: i)),
                                       to: root.appendingPathComponent("JPEGImages/\(name).jpg"))
            var labels = [UInt8](repeating: 0, count: 120)
            labels[5] = 255
            labels[6] = 15
            if i == 2 { labels[7] = 30 }
            let size = i == 1 ? (w: 10, h: 12) : (w: 12, h: 10)
            try TinyDatasets.writeFile(PNGLabelEncoder.encode(LabelMap(width: size.w, height: size.h, labels: labels)),
                                       to: root.appendingPathComponent("SegmentationClass/\(name).png"))
        }
        try TinyDatasets.writeFile(Data((names.joined(separator: "\n") + "\n").utf8), to: root.appendingPathComponent("ImageSets/Segmentation/val.txt"))
        let dataset = try SegmentationDataset.pascalVOC(root: root.deletingLastPathComponent(), split: "val")
        XCTAssertEqual(dataset.samples.map { $0.mask.lastPathComponent }, names.map { "\($0).png" })
        let report = SegmentationVerification.verify(dataset)
        XCTAssertEqual(report.problems.count, 2, "\(report.problems)")
        XCTAssertTrue(report.problems.contains { $0.contains("2007_000033.png") && $0.contains("10×12") }, "\(report.problems)")
        XCTAssertTrue(report.problems.contains { $0.contains("2007_000039.png") && $0.contains("30 (1 px)") }, "\(report.problems)")
        XCTAssertEqual(report.ignoredPixels, 1, "only the first image passes: one boundary pixel")
        XCTAssertEqual(report.classPixels[15], 1)
    }

    func testListFile() throws {
        let root = try temporaryDirectory(self)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("img"), withIntermediateDirectories: true)
        try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 0, index: 0)), to: root.appendingPathComponent("img/a.png"))
        try TinyDatasets.writeFile(PNGLabelEncoder.encode(LabelMap(width: 12, height: 10, labels: [UInt8](repeating: 3, count: 120))),
                                   to: root.appendingPathComponent("img/a_mask.png"))
        let list = root.appendingPathComponent("train.txt")
        try TinyDatasets.writeFile(Data("# image mask\nimg/a.png img/a_mask.png\n\n".utf8), to: list)
        let dataset = try SegmentationDataset.list(list, numClasses: 4)
        XCTAssertEqual(dataset.samples.count, 1)
        XCTAssertTrue(SegmentationVerification.verify(dataset).passed)
        XCTAssertFalse(SegmentationVerification.verify(try SegmentationDataset.list(list, numClasses: 3)).passed)

        try TinyDatasets.writeFile(Data("img/a.png\n".utf8), to: list)
        XCTAssertThrowsError(try SegmentationDataset.list(list, numClasses: 4)) { error in
            XCTAssertTrue("\(error)".contains("train.txt:1") && "\(error)".contains("expected 'image mask'"), "\(error)")
        }
        try TinyDatasets.writeFile(Data("img/a.png ../outside.png\n".utf8), to: list)
        XCTAssertThrowsError(try SegmentationDataset.list(list, numClasses: 4)) { error in
            XCTAssertTrue("\(error)".contains(".."), "\(error)")
        }
    }
}
