import Datasets
import Foundation
import Reports
import Tensor
import Training
import XCTest

/// A whole run as `vpeft train` does it: a dataset on disk in the VTAB-1k layout, the tiny ViT
/// checkpoint, a method, a protocol → adapter, per-epoch log and a run record the report reads.
final class TrainingSessionTests: XCTestCase {
    /// 3 classes of 16×16 PNGs (a colour per class plus noise) in VTAB-1k layout.
    func makeDataset(at root: URL) throws {
        let folder = root.appendingPathComponent("colours")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 4)
        let colours: [(Double, Double, Double)] = [(220, 40, 40), (40, 200, 60), (50, 60, 230)]
        var lines: [String: [String]] = ["train800": [], "val200": [], "test": []]
        for (c, colour) in colours.enumerated() {
            for i in 0..<14 {
                var pixels = [UInt8](repeating: 0, count: 16 * 16 * 3)
                for p in 0..<(16 * 16) {
                    for (k, base) in [colour.0, colour.1, colour.2].enumerated() {
                        pixels[3 * p + k] = UInt8(max(0, min(255, base + 60 * Double(rng.nextNormal()))))
                    }
                }
                let name = "images/\(c)_\(i).png"
                try PNGEncoder.encode(RGB8Image(width: 16, height: 16, pixels: pixels)).write(to: folder.appendingPathComponent(name))
                let split = i < 8 ? "train800" : (i < 10 ? "val200" : "test")
                lines[split]!.append("\(name) \(c)")
            }
        }
        lines["train800val200"] = lines["train800"]! + lines["val200"]!
        for (split, entries) in lines {
            try (entries.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("\(split).txt"), atomically: true, encoding: .utf8)
        }
    }

    func testARunWritesAdapterLogAndARecordTheReportReads() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-session-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeDataset(at: root.appendingPathComponent("data"))
        var loader = ConfigLoader()
        try loader.apply(["model": TrainerTests.tiny, "method": "lora", "method_options": ["rank": 2], "dataset": "vtab1k:colours",
                          "data_root": root.appendingPathComponent("data").path, "protocol": "honest", "epochs": 4, "warmup_epochs": 0,
                          "batch_size": 8, "lr": 1e-2, "eval_every": 2, "normalization": "inception", "drop_path": 0.0], from: "test")
        let config = try loader.resolve()
        let session = try TrainingSession(config: config)
        XCTAssertEqual(session.train.sampleCount, 30, "honest trains on train800val200")
        XCTAssertEqual(session.eval.sampleCount, 12, "and reports on test")
        let out = root.appendingPathComponent("run")
        let record = try XCTUnwrap(session.run(in: out, resume: false, progress: ProgressReporter(quiet: true)))
        XCTAssertGreaterThan(record.accuracy.reported, 60, "three colours are easy")
        for file in ["adapter/adapter.json", "adapter/adapter.safetensors", "epochs.csv", "record.json", "checkpoint.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let read = try XCTUnwrap(RunRecord.decode(try Data(contentsOf: out.appendingPathComponent("record.json")), file: out))
        XCTAssertEqual(read.method, "lora")
        XCTAssertEqual(read.dataset, "colours")
        XCTAssertEqual(read.evaluationProtocol, "honest")
        XCTAssertEqual(read.accuracy, record.accuracy.reported)
        XCTAssertEqual(read.trainableParameters, record.params.trainable)
        XCTAssertEqual(record.params.trainable, 2 * 2 * 2 * (2 * 32), "LoRA r=2 on q and v of 2 blocks (d 32), counted before the merge")
        XCTAssertNotNil(record.cost.mergedEvalImagesPerSecond, "LoRA merges: inference measured after merging too")
        XCTAssertEqual(read.perEpoch.map(\.epoch), [2, 4])
        XCTAssertEqual(record.environment.products, "fp32", "the record says how the products ran")

        // The TensorBoard event file next to epochs.csv: hyper-parameters, then every epoch's scalars.
        let csv = try String(contentsOf: out.appendingPathComponent("epochs.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "epoch,lr,train_loss,train_images_per_s,data_wait_s,eval_top1,eval_top5,eval_loss,train_top1,peak_memory_mb")
        let files = try TensorBoardReading.events(inFolder: out)
        XCTAssertEqual(files.count, 1)
        let events = files[0]
        XCTAssertEqual(events.first?.fileVersion, "brain.Event:2")
        let hparams = try XCTUnwrap(events.first { $0.plugins == ["hparams"] })
        XCTAssertEqual(hparams.step, 0)
        XCTAssertTrue(String(decoding: hparams.pluginContent, as: UTF8.self).contains("method_options.rank"))
        let epochs = events.filter { !$0.scalars.isEmpty }
        XCTAssertEqual(epochs.map(\.step), [1, 2, 3, 4])
        for event in epochs {
            XCTAssertTrue(Set(["train/loss", "train/top1", "train/lr", "train/images_per_s", "memory/peak_mb"]).isSubset(of: event.scalars.keys), "\(event.scalars.keys)")
            XCTAssertEqual(event.scalars["eval/top1"] != nil, event.step % 2 == 0, "evaluated every 2 epochs")
        }
        XCTAssertEqual(epochs.last?.scalars["eval/top1"], Float(record.accuracy.top1Final!))
        XCTAssertGreaterThan(epochs.last!.scalars["memory/peak_mb"]!, 0)
        XCTAssertEqual(record.params.ppt!, PPT.value(accuracy: record.accuracy.reported, trainableParameters: record.params.trainable, method: "lora")!, accuracy: 1e-12)
    }

    /// The same run on the tiny headless Swin (16×16 input, a new 3-class head): `vpeft train`
    /// takes a Swin hub folder like a ViT one.
    func testASwinRunTrainsAndWritesItsAdapter() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-swin-session-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeDataset(at: root.appendingPathComponent("data"))
        let swin = URL(fileURLWithPath: TrainerTests.tiny).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("swin/window_is_resolution").path
        var loader = ConfigLoader()
        try loader.apply(["model": swin, "method": "bitfit", "dataset": "vtab1k:colours", "data_root": root.appendingPathComponent("data").path,
                          "protocol": "honest", "epochs": 4, "warmup_epochs": 0, "batch_size": 8, "lr": 3e-2, "eval_every": 4,
                          "normalization": "inception", "drop_path": 0.1], from: "test")
        let session = try TrainingSession(config: try loader.resolve())
        XCTAssertEqual(session.imgSize, 16)
        let out = root.appendingPathComponent("run")
        let record = try XCTUnwrap(session.run(in: out, resume: false, progress: ProgressReporter(quiet: true)))
        XCTAssertGreaterThan(record.accuracy.reported, 50, "three colours are easy")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter/adapter.safetensors").path))
    }

    func testConfigErrorsSurfaceBeforeTraining() throws {
        var loader = ConfigLoader()
        try loader.apply(["model": TrainerTests.tiny, "dataset": "vtab1k:nothing", "data_root": "/nonexistent"], from: "test")
        XCTAssertThrowsError(try TrainingSession(config: try loader.resolve())) { XCTAssertTrue("\($0)".contains("nothing") || "\($0)".contains("nonexistent"), "\($0)") }
        var noRoot = ConfigLoader()
        try noRoot.apply(["model": TrainerTests.tiny], from: "test")
        XCTAssertThrowsError(try TrainingSession(config: try noRoot.resolve())) { XCTAssertTrue("\($0)".contains("data_root"), "\($0)") }
    }
}
