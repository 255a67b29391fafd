import Datasets
import Foundation
import Heads
import Models
import NN
import PEFT
import Tensor
import Training
import XCTest

/// Segmentation through the shared trainer: a tiny dense Swin with a tiny UPerNet on a tiny
/// `image mask` list written here (3 classes by colour, some pixels 255).
final class SegmentationTrainingTests: XCTestCase {
    static func swin(seed: UInt64 = 0) throws -> SwinTransformer {
        var c = SwinTransformerConfig()
        (c.imgSize, c.patchSize, c.embedDim, c.depths, c.numHeads, c.windowSize) = (32, 2, 8, [2, 2, 2], [1, 2, 2], [4, 4, 4])
        (c.mlpRatio, c.numClasses, c.dropPathRate, c.windowing) = (2, 0, 0.1, .dense)
        return try SwinTransformer(c, seed: seed)
    }

    static func segmenter(_ backbone: SwinTransformer, seed: UInt64 = 3) throws -> UperNetSegmenter {
        var settings = SegmentationSettings()
        (settings.decoderChannels, settings.auxChannels) = (8, 4)
        var config = settings.uperNetConfig(classes: 3)
        config.poolScales = [1, 2]
        return try UperNetSegmenter(backbone: backbone, config: config, seed: seed)
    }

    static func model(_ method: String, options: [String: Any] = [:]) throws -> (PEFTModel, UperNetSegmenter) {
        let head = try segmenter(try swin())
        return (try PEFTModel(backbone: head.backbone, method: try MethodRegistry.method(named: method, options: options), head: head, seed: 5), head)
    }

    /// `count` images of 28×22 (non-square) whose left part is class 0 (red), right part class 1
    /// (green) and a square class 2 (blue), with noise; a border of 255.
    static func writeDataset(in folder: URL, count: Int = 6) throws -> SegmentationDataset {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 11)
        var lines: [String] = []
        let (w, h) = (28, 22)
        for i in 0..<count {
            var pixels = [UInt8](repeating: 0, count: w * h * 3), labels = [UInt8](repeating: 0, count: w * h)
            let split = 8 + rng.nextInt(12), box = (x: rng.nextInt(18), y: rng.nextInt(12))
            for y in 0..<h {
                for x in 0..<w {
                    var label = x < split ? 0 : 1
                    if (box.x..<(box.x + 8)).contains(x) && (box.y..<(box.y + 8)).contains(y) { label = 2 }
                    for c in 0..<3 { pixels[(y * w + x) * 3 + c] = UInt8(c == label ? 200 : 40) &+ UInt8(rng.nextInt(30)) }
                    labels[y * w + x] = y == 0 ? 255 : UInt8(label)
                }
            }
            try PNGEncoder.encode(RGB8Image(width: w, height: h, pixels: pixels)).write(to: folder.appendingPathComponent("\(i).png"))
            try PNGLabelEncoder.encode(LabelMap(width: w, height: h, labels: labels)).write(to: folder.appendingPathComponent("\(i)_mask.png"))
            lines.append("\(i).png \(i)_mask.png")
        }
        let list = folder.appendingPathComponent("train.txt")
        try lines.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        return try SegmentationDataset.list(list, numClasses: 3)
    }

    func temporaryFolder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-seg-\(UUID())") }

    func sources(_ dataset: SegmentationDataset) throws -> (train: SegmentationBatchSource, eval: SegmentationBatchSource, settings: SegmentationSettings) {
        var config = TrainingConfig()
        (config.cropSize, config.ratioRange, config.imgScale) = (16, [0.8, 1.2], [28, 22])
        let settings = try SegmentationSettings(config)
        let pixels = try PixelNormalization.named("imagenet")
        return (SegmentationBatchSource(dataset: dataset, training: true, settings: settings, normalization: pixels, batchSize: 2, seed: 9),
                SegmentationBatchSource(dataset: dataset, training: false, settings: settings, normalization: pixels, batchSize: 2, seed: 9), settings)
    }

    func config(epochs: Int, method: String) -> TrainingConfig {
        var c = TrainingConfig()
        (c.epochs, c.batchSize, c.lr, c.weightDecay, c.evalEvery, c.method, c.dropPath, c.seed) = (epochs, 2, 2e-3, 1e-2, 1, method, 0.1, 7)
        (c.schedule, c.warmupIters, c.dataset) = ("poly", 2, "seglist:tiny")
        return c
    }

    /// A few epochs of LoRA on the tiny segmenter lower the loss; evaluation gives mmseg scores.
    func testTrainingLowersTheLossAndScoresMIoU() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (train, eval, _) = try sources(try Self.writeDataset(in: folder))
        let (model, head) = try Self.model("lora", options: ["rank": 2])
        let objective = SegmentationObjective(segmenter: head)
        let (outcome, state) = try Trainer(model: model, config: config(epochs: 6, method: "lora"), train: train, eval: eval, folder: nil,
                                           progress: ProgressReporter(quiet: true), objective: objective).run()
        XCTAssertEqual(outcome, .finished)
        XCTAssertLessThan(state.history.last!.trainLoss, state.history.first!.trainLoss * 0.9, "loss falls: \(state.history.map(\.trainLoss))")
        let last = try XCTUnwrap(state.history.last?.evalMIoU)
        XCTAssertEqual(EvaluationProtocol.honest.reported(from: state.history)?.score, last, "mIoU is the reported score")
        XCTAssertEqual(objective.lastEvaluation?.perClassIoU.count, 3)
        XCTAssertNil(state.history.last!.evalTop1)
    }

    /// The head trains and is left out of the count; with it, the count adds exactly its tensors.
    func testHeadIsTrainableAndNotCounted() throws {
        let (model, head) = try Self.model("lora", options: ["rank": 2])
        // The same method on the same Swin with a classifier counts the same (the paper's rule).
        let classifierSwin = try SwinTransformer({ var c = try Self.swin().config; c.numClasses = 0; return c }())
        let classification = try PEFTModel(backbone: classifierSwin, method: try MethodRegistry.method(named: "lora", options: ["rank": 2]), classes: 3, seed: 5)
        XCTAssertEqual(model.trainableParameterCount(), classification.trainableParameterCount())
        let loraTensors = model.methodTensors.reduce(0) { $0 + $1.tensor.count }
        XCTAssertEqual(model.trainableParameterCount(), loraTensors, "only LoRA's tensors count")
        let headCount = head.headParameters.reduce(0) { $0 + $1.tensor.count }
        XCTAssertGreaterThan(headCount, 0)
        XCTAssertEqual(model.trainableParameterCount(includingHead: true), loraTensors + headCount)
        XCTAssertTrue(head.headParameters.allSatisfy { $0.tensor.requiresGrad })
        XCTAssertTrue(model.savedTensors.contains { $0.name == "decode_head.bottleneck.batch_norm.running_mean" }, "buffers are saved")
        XCTAssertEqual(try Self.model("linear").0.trainableParameterCount(), 0, "frozen backbone: nothing counted")
    }

    /// Every method of the paper's Table VI attaches to the segmenter's Swin and its tensors get a
    /// gradient from the segmentation loss (the head's too).
    func testEveryTableVIMethodGetsGradientsOnTheSegmenter() throws {
        let methods: [(String, [String: Any])] = [("full", [:]), ("linear", [:]), ("bitfit", [:]), ("ln_tune", [:]), ("partial", ["k": 1]),
                                                  ("adapter", ["dim": 4]), ("lora", ["rank": 2]), ("adaptformer", ["dim": 4]), ("lorand", [:]),
                                                  ("e3va", [:]), ("mona", ["dim": 4])]
        var rng = SeededRandom(seed: 1)
        let images = Tensor.normal([2, 3, 20, 26], using: &rng)   // non-square, not whole windows
        let labels = (0..<(2 * 20 * 26)).map { $0 % 7 == 0 ? 255 : $0 % 3 }
        for (name, options) in methods {
            let (model, head) = try Self.model(name, options: options)
            head.setTraining(true)
            let options = ForwardOptions(training: true)
            model.beginPass(options: options, rng: rng)
            head.loss(head.forward(images, options: options, rng: rng), labels: labels).backward()
            let headIDs = Set(head.headParameters.map { ObjectIdentifier($0.tensor) })
            let backboneSide = model.trainableTensors.filter { !headIDs.contains(ObjectIdentifier($0.tensor)) }
            XCTAssertEqual(backboneSide.isEmpty, name == "linear", "\(name): trainable backbone-side tensors")
            if name != "linear" {
                let reached = backboneSide.filter { $0.tensor.grad?.scalars.contains { $0 != 0 } ?? false }
                XCTAssertFalse(reached.isEmpty, "\(name): no method or backbone tensor got a gradient")
            }
            if name == "e3va" {
                let unused = backboneSide.filter { $0.tensor.grad == nil }.map(\.name)
                XCTAssertEqual(unused, [], "e3va under a task head counts only what the heads read (no final norm)")
            }
            XCTAssertTrue(head.headParameters.allSatisfy { $0.tensor.grad != nil }, "\(name): the head trains")
        }
    }

    /// Interrupting and resuming ends bit-identical, BatchNorm running statistics included.
    func testResumeIsBitIdentical() throws {
        let data = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let (train, eval, _) = try sources(try Self.writeDataset(in: data))
        var c = config(epochs: 3, method: "adapter")
        c.methodOptions = ["dim": .number(4)]
        func run(_ source: BatchSource, folder: URL?, resume: Bool = false) throws -> (PEFTModel, TrainingState, Trainer.Outcome) {
            let (model, head) = try Self.model("adapter", options: ["dim": 4])
            let (outcome, state) = try Trainer(model: model, config: c, train: source, eval: eval, folder: folder, progress: ProgressReporter(quiet: true),
                                               objective: SegmentationObjective(segmenter: head)).run(resume: resume)
            return (model, state, outcome)
        }
        let (straight, straightState, _) = try run(train, folder: nil)
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, _, outcome) = try run(InterruptingSource(inner: train, stopAfterBatches: 4), folder: folder)
        Interrupt.request(false)
        XCTAssertEqual(outcome, .interrupted)
        let (resumed, resumedState, _) = try run(train, folder: folder, resume: true)
        for ((name, a), (_, b)) in zip(straight.savedTensors, resumed.savedTensors) {
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(name) after resume")
        }
        XCTAssertEqual(straightState.history.map(\.trainLoss), resumedState.history.map(\.trainLoss))
        XCTAssertEqual(straightState.history.map(\.evalMIoU), resumedState.history.map(\.evalMIoU))

        // The adapter file carries the head and its BatchNorm statistics: reloaded, it scores the same.
        let adapter = folder.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: adapter, withIntermediateDirectories: true)
        try AdapterFile.save(resumed, backboneFingerprint: Fingerprint.of(try Self.swin()), to: adapter)
        let freshHead = try Self.segmenter(try Self.swin())
        let reloaded = try AdapterFile.load(adapter, onto: freshHead.backbone, head: freshHead)
        for ((name, a), (_, b)) in zip(resumed.savedTensors, reloaded.savedTensors) {
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(name) from the adapter file")
        }
        XCTAssertEqual(try SegmentationObjective(segmenter: freshHead).evaluate(reloaded, on: eval).meanIoU, resumedState.history.last!.evalMIoU)
    }

    /// Bad segmentation settings are errors naming the key and the value.
    /// `photometric_distortion` defaults to on (mmseg's recipes) and `false` turns it off; left
    /// unset it stays out of the encoding, so existing configs keep their hashes.
    func testPhotometricDistortionKey() throws {
        var loader = ConfigLoader()
        try loader.apply(overrides: ["dataset=seglist:tiny"])
        let defaults = try loader.resolve()
        XCTAssertNotNil(try SegmentationSettings(defaults).augmentation.photometricDistortion)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(defaults), as: UTF8.self).contains("photometric_distortion"))
        try loader.apply(overrides: ["photometric_distortion=false"])
        XCTAssertNil(try SegmentationSettings(try loader.resolve()).augmentation.photometricDistortion)
    }

    /// A Swin with `weights` an mmseg UPerNet checkpoint loads whole; its classes must be the dataset's.
    func testSegmenterLoaderTakesAnMMSegCheckpoint() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("HeadsTests/Fixtures/upernet")
        let swin = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-mmseg-swin-\(UUID()).json")
        try #"{"architecture": "swin_tiny_patch4_window7_224", "model_args": {"img_size": 32, "patch_size": 2, "embed_dim": 4, "depths": [2, 2, 2, 2], "num_heads": [1, 1, 2, 2], "window_size": 2, "mlp_ratio": 2.0}}"#
            .write(to: swin, atomically: true, encoding: .utf8)
        var config = TrainingConfig()
        (config.model, config.weights, config.imgSize) = (swin.path, fixtures.appendingPathComponent("swin_w2_s32_mmseg.pth").path, 32)
        let segmenter = try SegmenterLoader.load(config: config, settings: SegmentationSettings(), classes: 5)
        let hf = try UperNetSegmenter.loadHuggingFace(fixtures.appendingPathComponent("swin_w2_s32").path, imgSize: 32)
        XCTAssertEqual(segmenter.decodeHead.namedParameters.map(\.tensor.scalars), hf.decodeHead.namedParameters.map(\.tensor.scalars))
        XCTAssertThrowsError(try SegmenterLoader.load(config: config, settings: SegmentationSettings(), classes: 150)) { error in
            XCTAssertTrue("\(error)".contains("its head has 5 classes, the dataset 150"), "\(error)")
        }
    }

    func testBadSegmentationValuesNameTheKey() throws {
        for (key, value, expected) in [("crop_size", "0", "crop_size = 0"), ("ratio_range", "[2, 1]", "ratio_range"), ("inference", "tiles", "inference = tiles"),
                                       ("schedule", "linear", "schedule = linear"), ("test_scales", "[]", "test_scales"), ("slide_stride", "600", "slide_stride = 600"),
                                       ("cat_max_ratio", "1.5", "cat_max_ratio = 1.5"), ("task", "detection", "task = detection"), ("num_classes", "300", "num_classes = 300")] {
            var loader = ConfigLoader()
            try loader.apply(overrides: ["dataset=seglist:tiny", "\(key)=\(value)"])
            XCTAssertThrowsError(try loader.resolve(), key) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(key): \(error)")
            }
        }
    }
}
