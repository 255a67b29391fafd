import Datasets
import Foundation
import Heads
import Models
import PEFT
import Reports
import Tensor
import Training
import XCTest

/// A segmentation run as `vpeft train` does it: a `seglist` folder (the coloured-region images of
/// `SegmentationTrainingTests`), a tiny random Swin or ViT named by a timm hub config.json, the
/// UPerNet head from the config, and a record that `vpeft report` lays out as Table VI.
final class SegmentationSessionTests: XCTestCase {
    /// data/tiny/: train.txt (6 images), test.txt (the first 3), classes.txt (3 names).
    func makeData() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-seg-session-\(UUID())")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("tiny")
        _ = try SegmentationTrainingTests.writeDataset(in: folder)
        let lines = try String(contentsOf: folder.appendingPathComponent("train.txt"), encoding: .utf8).split(separator: "\n")
        try lines.prefix(3).joined(separator: "\n").write(to: folder.appendingPathComponent("test.txt"), atomically: true, encoding: .utf8)
        try "left\nright\nsquare\n".write(to: folder.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        return root
    }

    /// A timm hub folder (config.json only: random weights) for a tiny Swin or ViT.
    func hubModel(_ family: String, in root: URL) throws -> String {
        let folder = root.appendingPathComponent("model-\(family)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config: [String: Any] = family == "swin"
            ? ["architecture": "swin_tiny_patch4_window7_224",
               "model_args": ["img_size": 16, "patch_size": 2, "embed_dim": 8, "depths": [2, 2, 2], "num_heads": [1, 2, 2], "window_size": 4, "mlp_ratio": 2]]
            : ["architecture": "vit_tiny_patch16_224",
               "model_args": ["img_size": 16, "patch_size": 4, "embed_dim": 8, "depth": 4, "num_heads": 2, "mlp_ratio": 2]]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        return folder.path
    }

    func config(root: URL, model: String, _ extra: [String: Any] = [:]) throws -> TrainingConfig {
        var loader = ConfigLoader()
        try loader.apply(["model": model, "method": "lora", "method_options": ["rank": 2], "dataset": "seglist:tiny", "data_root": root.path,
                          "protocol": "honest", "epochs": 2, "batch_size": 2, "lr": 2e-3, "weight_decay": 0.01, "eval_every": 1, "schedule": "poly",
                          "warmup_iters": 1, "crop_size": 16, "ratio_range": [0.8, 1.2], "img_scale": [28, 22], "decoder_channels": 8, "aux_channels": 4,
                          "speed_images": 2, "drop_path": 0.0].merging(extra) { $1 }, from: "test")
        return try loader.resolve()
    }

    /// The record holds mIoU as its reported metric, the segmentation section, peak memory and
    /// the method's count without the head; the report reads it back as Table VI; resuming a
    /// finished run writes the same scores.
    func testASwinRunWritesATableVIRecord() throws {
        let root = try makeData()
        let session = try TrainingSession(config: try config(root: root, model: try hubModel("swin", in: root)))
        let head = try XCTUnwrap(session.segmentation?.objective.segmenter)
        XCTAssertNil(head.neck, "a Swin's stages are a pyramid already")
        XCTAssertEqual((head.backbone as? SwinTransformer)?.config.windowing, .dense)
        XCTAssertEqual(session.splitNames.train, "train")
        XCTAssertEqual(session.splitNames.eval, "test")
        XCTAssertEqual(session.eval.sampleCount, 3)
        XCTAssertEqual(session.segmentation?.data.classNames, ["left", "right", "square"])
        let out = root.appendingPathComponent("run")
        let counted = session.model.trainableParameterCount()   // before the run merges LoRA away
        let record = try XCTUnwrap(session.run(in: out, resume: false, progress: ProgressReporter(quiet: true)))

        XCTAssertEqual(record.accuracy.metric, "miou")
        let scores = try XCTUnwrap(record.segmentation)
        XCTAssertEqual(record.accuracy.reported, try XCTUnwrap(scores.miou))
        XCTAssertEqual(scores.perClassIoU.count, 3)
        XCTAssertEqual(scores.classNames, ["left", "right", "square"])
        // The reported mIoU is the objective's score of the final model.
        let final = try session.segmentation!.objective.evaluate(session.model, on: session.eval)
        XCTAssertEqual(final.meanIoU, scores.miou)
        XCTAssertEqual(record.params.trainable, counted)
        XCTAssertLessThan(record.params.trainable, record.params.trainableWithHead, "the head is left out of the count")
        XCTAssertGreaterThan(try XCTUnwrap(record.cost.peakMemoryMB), 0)
        XCTAssertNotNil(record.cost.evalImagesPerSecond)

        let log = try String(contentsOf: out.appendingPathComponent("epochs.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(log[0].hasSuffix(",eval_miou,eval_macc,eval_aacc"), "\(log[0])")
        XCTAssertTrue(log[2].contains(String(try XCTUnwrap(scores.miou))), "the last epoch's mIoU is logged: \(log[2])")

        let read = try XCTUnwrap(RunRecord.decode(try Data(contentsOf: out.appendingPathComponent("record.json")), file: out))
        XCTAssertEqual(read.metric, "miou")
        XCTAssertEqual(read.accuracy, record.accuracy.reported)
        XCTAssertTrue(TaskTable.applies(to: [read]), "segmentation records get Table VI's layout")
        let table = TaskTable.make(records: [read])
        XCTAssertEqual(table.columns.map(\.title).suffix(2), ["tiny mIoU", "tiny PPT"])
        XCTAssertTrue(table.columns.map(\.title).contains("Peak memory (MB)"))

        // Resuming the finished run trains nothing and reports the same final scores.
        let again = try TrainingSession(config: try config(root: root, model: try hubModel("swin", in: root)))
        let resumed = try XCTUnwrap(again.run(in: out, resume: true, progress: ProgressReporter(quiet: true)))
        XCTAssertEqual(resumed.segmentation?.miou, scores.miou)
        XCTAssertEqual(resumed.segmentation?.perClassIoU, scores.perClassIoU)
    }

    /// A plain ViT reads its maps through the Feature2Pyramid neck, which trains with the head,
    /// is saved with the adapter and is not counted; the adapter reloads onto a rebuilt
    /// segmenter (what `vpeft eval` does) and scores the same.
    func testAViTRunTrainsTheNeckAndItsAdapterReloads() throws {
        let root = try makeData()
        let session = try TrainingSession(config: try config(root: root, model: try hubModel("vit", in: root), ["epochs": 1]))
        let head = try XCTUnwrap(session.segmentation?.objective.segmenter)
        let neck = try XCTUnwrap(head.neck)
        XCTAssertEqual(head.backbone.fixedInputSide, 16, "the backbone's side is crop_size")
        XCTAssertTrue(head.headParameters.contains { $0.name == "neck.upsample_4x.0.weight" })
        let before = neck.upsample2x.weight.scalars
        let loraCount = session.model.methodTensors.reduce(0) { $0 + $1.tensor.count }   // before the run merges LoRA away
        let out = root.appendingPathComponent("run")
        let record = try XCTUnwrap(session.run(in: out, resume: false, progress: ProgressReporter(quiet: true)))
        XCTAssertNotEqual(neck.upsample2x.weight.scalars, before, "the neck trains")
        XCTAssertEqual(record.params.trainable, loraCount, "only LoRA's tensors count")

        let reloaded = try TrainedSegmenter(adapter: out.appendingPathComponent("adapter"))
        XCTAssertNotNil(reloaded.objective.segmenter.neck)
        XCTAssertEqual(reloaded.objective.segmenter.neck?.upsample4x.norm.namedBuffers.map(\.tensor.scalars),
                       neck.upsample4x.norm.namedBuffers.map(\.tensor.scalars), "BatchNorm statistics come back")
        let (test, names) = try reloaded.split("test")
        XCTAssertEqual(names, ["left", "right", "square"])
        XCTAssertEqual(try reloaded.objective.evaluate(reloaded.model, on: test).meanIoU, record.segmentation?.miou)
        // Slide inference over windows of the crop (stride ⅔ of it) covers the 28×22 images too.
        let sliding = try TrainedSegmenter(adapter: out.appendingPathComponent("adapter"), inference: "slide")
        XCTAssertEqual(sliding.settings.inference, .slide(crop: 16, stride: 10))
        XCTAssertNotNil(try sliding.objective.evaluate(sliding.model, on: try sliding.split("test").source).meanIoU)
    }

    /// Wrong segmentation inputs fail before training, naming the key, value or file.
    func testBadSegmentationRunsNameTheirKeyOrFile() throws {
        let root = try makeData()
        let swin = try hubModel("swin", in: root)
        func expectError(_ extra: [String: Any], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertThrowsError(try TrainingSession(config: try config(root: root, model: swin, extra)), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)", file: file, line: line)
            }
        }
        try expectError(["num_classes": 5], "num_classes = 5")
        try expectError(["protocol": "honest-select"], "val.txt: missing")
        try expectError(["dataset": "seglist:nothing"], "nothing/classes.txt: missing")
        try expectError(["dataset": "ade20k:ADEChallengeData2016"], "ADEChallengeData2016/images/training")
        try expectError(["dataset": "voc:VOC2012", "protocol": "honest-select"], "protocol = honest-select")
        try expectError(["task": "classification"], "is a segmentation dataset")
        try expectError(["task": "segmentation", "dataset": "vtab1k:cifar100"], "not a segmentation suite")
        try expectError(["model": "efficientnet_lite0"], "has no feature pyramid")
        XCTAssertThrowsError(try config(root: root, model: swin, ["decoder_channels": 0])) { error in
            XCTAssertTrue("\(error)".contains("decoder_channels = 0"), "\(error)")
        }
    }
}
