import Datasets
import Foundation
import XCTest

/// The video dataset layouts on tiny on-disk copies: Something-Something-V2's JSON files,
/// HMDB51's split files, generic lists, and pre-extracted frame folders; each decodes its
/// videos (the fixture clips) through the frame sources.
final class VideoDatasetTests: XCTestCase {
    private func copyClip(_ name: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DataFixtures.url("videos/\(name)"), to: url)
    }

    func testSomethingSomethingV2Layout() throws {
        let root = try temporaryDirectory(self)
        try TinyDatasets.write(#"{"Pushing something from left to right": "0", "Holding something next to something": "1"}"#,
                               to: root.appendingPathComponent("labels/labels.json"))
        try TinyDatasets.write(#"[{"id": "12", "label": "holding a cup next to a pen", "template": "Holding [something] next to [something]", "placeholders": ["a cup", "a pen"]}, {"id": "7", "template": "Pushing [something] from left to right"}]"#,
                               to: root.appendingPathComponent("labels/train.json"))
        try TinyDatasets.write(#"[{"id": "30", "template": "Pushing [something] from left to right"}]"#,
                               to: root.appendingPathComponent("labels/validation.json"))
        try copyClip("vp9.webm", to: root.appendingPathComponent("20bn-something-something-v2/12.webm"))

        let splits = try SomethingSomethingV2Dataset.load(root: root)
        XCTAssertEqual(splits.classNames, ["Pushing something from left to right", "Holding something next to something"])
        XCTAssertEqual(splits.train.map(\.path), ["20bn-something-something-v2/12.webm", "20bn-something-something-v2/7.webm"])
        XCTAssertEqual(splits.train.map(\.label), [1, 0])
        XCTAssertEqual(splits.test.map(\.label), [0])
        XCTAssertEqual(splits.sampling, .segments(count: 16))
        XCTAssertEqual(splits.testViews, .somethingSomethingV2)
        let video = try splits.frames(of: splits.train[0])
        XCTAssertEqual(video.frameCount, 10)
        XCTAssertEqual(try video.frames(at: splits.sampling.testIndices(frameCount: 10, clip: 1, of: 2)).count, 16)
        expectDatasetError({ _ = try splits.frames(of: splits.train[1]) }, file: "7.webm", mentions: ["missing"])

        try TinyDatasets.write(#"[{"id": "9", "template": "Dropping [something]"}]"#, to: root.appendingPathComponent("labels/validation.json"))
        expectDatasetError({ _ = try SomethingSomethingV2Dataset.load(root: root) }, file: "validation.json", mentions: ["Dropping something", "labels.json"])
        try TinyDatasets.write(#"[{"id": "../9", "template": "Dropping [something]"}]"#, to: root.appendingPathComponent("labels/validation.json"))
        expectDatasetError({ _ = try SomethingSomethingV2Dataset.load(root: root) }, file: "validation.json", mentions: ["id", "numeric"])
    }

    func testHMDB51Layout() throws {
        let root = try temporaryDirectory(self)
        let splitFolder = root.appendingPathComponent("testTrainMulti_7030_splits")
        try TinyDatasets.write("a.avi 1\nb.avi 2\nc.avi 0\n", to: splitFolder.appendingPathComponent("wave_test_split1.txt"))
        try TinyDatasets.write("d.avi 2 \ne.avi 1\n", to: splitFolder.appendingPathComponent("brush_hair_test_split1.txt"))
        try TinyDatasets.write("a.avi 2\n", to: splitFolder.appendingPathComponent("wave_test_split2.txt"))
        try copyClip("mpeg4.avi", to: root.appendingPathComponent("wave/a.avi"))

        let splits = try HMDB51Dataset.load(root: root, split: 1)
        XCTAssertEqual(splits.classNames, ["brush_hair", "wave"])
        XCTAssertEqual(splits.train.map(\.path), ["brush_hair/e.avi", "wave/a.avi"])
        XCTAssertEqual(splits.train.map(\.label), [0, 1])
        XCTAssertEqual(splits.test.map(\.path), ["brush_hair/d.avi", "wave/b.avi"])
        XCTAssertEqual(splits.sampling, .dense(frames: 16, stride: 4))
        XCTAssertEqual(splits.testViews.count, 15)
        let video = try splits.frames(of: splits.train[1])
        XCTAssertEqual(try video.frames(at: splits.sampling.testIndices(frameCount: video.frameCount, clip: 0, of: 5)).count, 16)

        XCTAssertEqual(try HMDB51Dataset.load(root: root, split: 2).classNames, ["wave"])
        expectDatasetError({ _ = try HMDB51Dataset.load(root: root, split: 3) }, file: "testTrainMulti_7030_splits", mentions: ["_test_split3.txt"])
        expectDatasetError({ _ = try HMDB51Dataset.load(root: root, split: 4) }, file: "testTrainMulti_7030_splits", mentions: ["splits 1, 2, 3"])
        try TinyDatasets.write("a.avi 1\nb.avi train\n", to: splitFolder.appendingPathComponent("wave_test_split1.txt"))
        expectDatasetError({ _ = try HMDB51Dataset.load(root: root, split: 1) }, file: "wave_test_split1.txt", line: 2, mentions: ["b.avi train"])
    }

    func testGenericListAndFrameFolders() throws {
        let root = try temporaryDirectory(self)
        try copyClip("h264.mp4", to: root.appendingPathComponent("videos/a.mp4"))
        let frames = root.appendingPathComponent("rawframes/b")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let images = (1...3).map { RGB8Image(width: 4, height: 2, fill: (UInt8(40 * $0), 0, 0)) }
        // PNG bytes under mmaction2's .jpg names: frames are recognised by content, not extension.
        for (i, image) in images.enumerated() {
            try TinyDatasets.writeFile(try PNGEncoder.encode(image), to: frames.appendingPathComponent(String(format: "img_%05d.jpg", i + 1)))
        }
        try TinyDatasets.write("videos/a.mp4 1\nrawframes/b 0\n", to: root.appendingPathComponent("train.txt"))
        try TinyDatasets.write("rawframes/b,1\n", to: root.appendingPathComponent("test.csv"))
        let splits = try VideoListDataset.load(root: root, trainList: root.appendingPathComponent("train.txt"), testList: root.appendingPathComponent("test.csv"),
                                               classCount: 2, sampling: .dense(frames: 4, stride: 2), testViews: .kineticsStyle)
        XCTAssertEqual(splits.train.map(\.label), [1, 0])
        XCTAssertEqual(try splits.frames(of: splits.train[0]).frameCount, 10)
        let folder = try splits.frames(of: splits.test[0])
        XCTAssertTrue(folder is RawFrameFolder)
        XCTAssertEqual(folder.frameCount, 3)
        XCTAssertEqual(try folder.frames(at: [2, 0, 2]), [images[2], images[0], images[2]])
        expectDatasetError({ _ = try folder.frames(at: [3]) }, file: "rawframes/b", mentions: ["frame 3", "3 frames"])

        try FileManager.default.removeItem(at: frames.appendingPathComponent("img_00002.jpg"))
        expectDatasetError({ _ = try RawFrameFolder(frames) }, file: "rawframes/b", mentions: ["frame 2 is missing", "img_00002.jpg"])
        try TinyDatasets.writeFile(Data("not an image".utf8), to: frames.appendingPathComponent("img_00002.jpg"))
        expectDatasetError({ _ = try RawFrameFolder(frames).frames(at: [1]) }, file: "img_00002.jpg", mentions: ["not a JPEG or PNG"])
    }

    /// `vpeft data verify --video`: good videos pass with their frame counts; a truncated file,
    /// a corrupt frame of a frame folder and a class without training videos are problems naming
    /// the file or the class; a video listed in both splits is checked once.
    func testVideoVerification() throws {
        let root = try temporaryDirectory(self)
        try copyClip("h264.mp4", to: root.appendingPathComponent("a.mp4"))
        try copyClip("vp9.webm", to: root.appendingPathComponent("b.webm"))
        try TinyDatasets.write("a.mp4 0\nb.webm 1\n", to: root.appendingPathComponent("train.txt"))
        try TinyDatasets.write("a.mp4 0\n", to: root.appendingPathComponent("test.txt"))
        func splits(classes: Int = 2) throws -> VideoDatasetSplits {
            try VideoListDataset.load(root: root, trainList: root.appendingPathComponent("train.txt"), testList: root.appendingPathComponent("test.txt"),
                                      classCount: classes, sampling: .dense(frames: 4, stride: 2), testViews: .kineticsStyle)
        }
        let good = VideoVerification.verify(try splits())
        XCTAssertEqual(good.problems, [])
        XCTAssertEqual(good.videosChecked, 2)
        XCTAssertEqual(good.frameCounts?.min, 10)
        XCTAssertEqual(good.trainingVideosPerClass, [1, 1])

        XCTAssertEqual(VideoVerification.verify(try splits(classes: 3)).problems, ["class 2 (class 2) has no training video"])

        let bytes = try Data(contentsOf: root.appendingPathComponent("a.mp4"))
        try bytes.prefix(bytes.count / 2).write(to: root.appendingPathComponent("a.mp4"))
        let truncated = VideoVerification.verify(try splits())
        XCTAssertEqual(truncated.problems.count, 1, "\(truncated.problems)")
        XCTAssertTrue(truncated.problems[0].contains("a.mp4"), truncated.problems[0])
    }
}
