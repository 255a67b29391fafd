import Datasets
import Foundation
import Reports
import Training
import XCTest

/// A video run as `vpeft train` does it: a `videolist` dataset of the fixture clips, the tiny
/// VideoMAE of Tests/ModelsTests/Fixtures/videomae, multi-view testing, and a record the report
/// lays out as Table V.
final class VideoTrainingSessionTests: XCTestCase {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// data/clips/: the three fixture videos, classes.txt, train.txt (all three), test.txt (two).
    func makeDataset(_ classes: String? = "forward\nbackward\nstill\n") throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-video-session-\(UUID())")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("clips")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["h264.mp4", "vp9.webm", "mpeg4.avi"] {
            try FileManager.default.copyItem(at: Self.tests.appendingPathComponent("DatasetsTests/Fixtures/videos/\(name)"), to: folder.appendingPathComponent(name))
        }
        if let classes { try Data(classes.utf8).write(to: folder.appendingPathComponent("classes.txt")) }
        try Data("h264.mp4 1\nvp9.webm 0\nmpeg4.avi 2\n".utf8).write(to: folder.appendingPathComponent("train.txt"))
        try Data("vp9.webm 0\nh264.mp4 1\n".utf8).write(to: folder.appendingPathComponent("test.txt"))
        return root
    }

    func config(root: URL, _ extra: [String: Any] = [:]) throws -> TrainingConfig {
        var loader = ConfigLoader()
        try loader.apply(["model": Self.tests.appendingPathComponent("ModelsTests/Fixtures/videomae/hf").path, "method": "lora",
                          "method_options": ["rank": 2], "dataset": "videolist:clips", "data_root": root.path, "protocol": "honest",
                          "epochs": 2, "warmup_epochs": 0, "batch_size": 3, "lr": 1e-2, "eval_every": 1, "frames": 4, "frame_stride": 2,
                          "test_views": "2x3", "speed_images": 0, "drop_path": 0.0].merging(extra) { $1 }, from: "test")
        return try loader.resolve()
    }

    func testAVideoRunTestsEveryViewAndWritesATableVRecord() throws {
        let root = try makeDataset()
        let session = try TrainingSession(config: try config(root: root))
        XCTAssertEqual(session.train.sampleCount, 3)
        XCTAssertEqual(session.eval.sampleCount, 2)
        XCTAssertEqual(session.eval.viewsPerSample, 6, "2 temporal clips × 3 crops")
        XCTAssertEqual(session.splitNames.eval, "test")
        let out = root.appendingPathComponent("run")
        let record = try XCTUnwrap(session.run(in: out, resume: false, progress: ProgressReporter(quiet: true)))
        XCTAssertEqual(record.dataset.evalImages, 2, "the record counts videos, not views")
        XCTAssertEqual(record.dataset.group, "video")
        // The reported top-1 is the evaluator's multi-view score of the final model.
        let final = try Evaluator.evaluate(session.model, on: session.eval)
        XCTAssertEqual(final.images, 2)
        XCTAssertEqual(record.accuracy.reported, final.top1)

        let read = try XCTUnwrap(RunRecord.decode(try Data(contentsOf: out.appendingPathComponent("record.json")), file: out))
        XCTAssertTrue(TaskTable.applies(to: [read]), "video records get Table V's layout")
        XCTAssertEqual(TaskTable.make(records: [read]).columns.map(\.title).suffix(2), ["clips Top-1", "clips PPT"])
    }

    func testBadVideoSettingsNameTheirKeyOrFile() throws {
        let root = try makeDataset(nil)
        XCTAssertThrowsError(try TrainingSession(config: try config(root: root))) { error in
            XCTAssertTrue("\(error)".contains("classes.txt: missing"), "\(error)")
        }
        let good = try makeDataset()
        XCTAssertThrowsError(try TrainingSession(config: try config(root: good, ["test_views": "5by3"]))) { error in
            XCTAssertTrue("\(error)".contains("test_views = 5by3"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingSession(config: try config(root: good, ["protocol": "honest-select"]))) { error in
            XCTAssertTrue("\(error)".contains("no validation split"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingSession(config: try config(root: good, ["dataset": "hmdb51:splitfour"]))) { error in
            XCTAssertTrue("\(error)".contains("hmdb51:split1"), "\(error)")
        }
        XCTAssertThrowsError(try config(root: good, ["frames": 0])) { error in
            XCTAssertTrue("\(error)".contains("frames = 0"), "\(error)")
        }
        XCTAssertThrowsError(try config(root: good, ["clip_crop_scale": [0.9, 0.5]])) { error in
            XCTAssertTrue("\(error)".contains("clip_crop_scale"), "\(error)")
        }
    }
}
