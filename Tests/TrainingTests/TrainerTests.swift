import Foundation
import Models
import NN
import PEFT
import Tensor
import Training
import XCTest

final class TrainerTests: XCTestCase {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures/vit/cls_token").path

    func config(epochs: Int = 6, lr: Double = 3e-3, method: String = "linear") -> TrainingConfig {
        var c = TrainingConfig()
        (c.epochs, c.batchSize, c.lr, c.weightDecay, c.warmupEpochs, c.evalEvery, c.method, c.dropPath) = (epochs, 8, lr, 1e-4, 1, 1, method, 0.1)
        c.seed = 7
        return c
    }

    func peft(_ method: String, options: [String: Any] = [:]) throws -> PEFTModel {
        try PEFTModel(backbone: try VisionTransformer.load(model: Self.tiny), method: try MethodRegistry.method(named: method, options: options), classes: 5, seed: 3)
    }

    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-train-\(UUID())")
    }

    /// A tiny ViT learns a generated separable dataset with several methods: loss falls and
    /// accuracy ends far above chance (20 %).
    func testSeveralMethodsLearnASeparableDataset() throws {
        let train = SyntheticImages(), test = SyntheticImages(perClass: 6, shuffle: false, seed: 2)
        for (method, options, lr) in [("linear", [:], 2e-2), ("lora", ["rank": 4, "alpha": 8], 5e-3), ("adapter", ["dim": 4], 5e-3),
                                      ("bitfit", [:], 5e-3), ("vpt_deep", ["prompts": 2], 3e-2), ("ssf", [:], 5e-3)] as [(String, [String: Any], Double)] {
            let model = try peft(method, options: options)
            let before = try Evaluator.evaluate(model, on: test)
            var c = config(epochs: 30, lr: lr, method: method)
            (c.warmupEpochs, c.evalEvery, c.dropPath) = (0, 30, 0)
            let trainer = Trainer(model: model, config: c, train: train, eval: test, folder: nil, progress: ProgressReporter(quiet: true))
            let (outcome, state) = try trainer.run()
            XCTAssertEqual(outcome, .finished)
            XCTAssertLessThan(state.history.last!.trainLoss, state.history.first!.trainLoss * 0.7, "\(method): loss falls")
            let after = state.history.last!.evalTop1!
            XCTAssertGreaterThan(after, 60, "\(method): accuracy \(after)% (before \(before.top1)%)")
        }
    }

    /// The tiny Swin (widths 8/16/32, shifted padded windows) learns the same data through
    /// methods that find their sites on its blocks: LoRA, PATT (per window), Mona (over each
    /// stage's token grid), with drop-path on.
    func testSwinLearnsThroughBlockSiteMethods() throws {
        let swinFolder = URL(fileURLWithPath: Self.tiny).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("swin/shifted_padded").path
        let train = SyntheticImages(size: 36), test = SyntheticImages(perClass: 6, size: 36, shuffle: false, seed: 2)
        for (method, options, lr) in [("lora", ["rank": 4, "alpha": 8], 1e-2), ("patt", ["dim": 8], 1e-2), ("mona", ["dim": 8], 5e-3)]
            as [(String, [String: Any], Double)] {
            let model = try PEFTModel(backbone: try SwinTransformer.load(model: swinFolder), method: try MethodRegistry.method(named: method, options: options),
                                      classes: 5, seed: 3)
            var c = config(epochs: 15, lr: lr, method: method)
            (c.warmupEpochs, c.evalEvery) = (0, 15)
            let (outcome, state) = try Trainer(model: model, config: c, train: train, eval: test, folder: nil, progress: ProgressReporter(quiet: true)).run()
            XCTAssertEqual(outcome, .finished)
            XCTAssertLessThan(state.history.last!.trainLoss, state.history.first!.trainLoss * 0.7, "\(method): loss falls")
            XCTAssertGreaterThan(state.history.last!.evalTop1!, 60, "\(method): accuracy")
        }
    }

    /// Interrupting at a batch and resuming ends bit-identical to an uninterrupted run.
    func testResumeAfterInterruptIsBitIdentical() throws {
        let train = SyntheticImages(), test = SyntheticImages(perClass: 4, shuffle: false, seed: 2)
        var c = config(epochs: 4, lr: 5e-3, method: "lora")
        c.methodOptions = ["rank": .number(2)]
        c.gradClip = 1
        func fresh() throws -> PEFTModel { try peft("lora", options: ["rank": 2]) }

        let straight = try fresh()
        let (_, straightState) = try Trainer(model: straight, config: c, train: train, eval: test, folder: nil, progress: ProgressReporter(quiet: true)).run()

        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: 99)
        let stopAt = 1 + rng.nextInt(4 * 8 - 2)         // a random batch somewhere in the run
        let interrupted = try fresh()
        let first = InterruptingSource(inner: train, stopAfterBatches: stopAt)
        let (outcome, _) = try Trainer(model: interrupted, config: c, train: first, eval: test, folder: folder, progress: ProgressReporter(quiet: true)).run()
        Interrupt.request(false)
        XCTAssertEqual(outcome, .interrupted)
        let resumed = try fresh()
        let (_, resumedState) = try Trainer(model: resumed, config: c, train: train, eval: test, folder: folder, progress: ProgressReporter(quiet: true)).run(resume: true)

        for ((name, a), (_, b)) in zip(straight.trainableTensors, resumed.trainableTensors) {
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(name) after resume at batch \(stopAt)")
        }
        XCTAssertEqual(straightState.history.map(\.evalTop1), resumedState.history.map(\.evalTop1))
        XCTAssertEqual(straightState.history.map(\.trainLoss), resumedState.history.map(\.trainLoss))
        XCTAssertEqual(straightState.history.map(\.trainTop1), resumedState.history.map(\.trainTop1), "train accuracy survives the resume")

        // TensorBoard: one event file per process; together they show every epoch once.
        let files = try TensorBoardReading.events(inFolder: folder)
        XCTAssertEqual(files.count, 2)
        XCTAssertEqual(files.map { $0.filter { $0.plugins == ["hparams"] }.count }, [1, 0], "hyper-parameters once, from the first process")
        let shown = TensorBoardReading.scalarsAfterPurge(files)
        XCTAssertEqual(shown.map(\.step), [1, 2, 3, 4])
        XCTAssertEqual(shown.map { $0.scalars["train/loss"] ?? .nan }, resumedState.history.map { Float($0.trainLoss) })
        XCTAssertEqual(shown.map { $0.scalars["eval/top1"] ?? .nan }, resumedState.history.map { Float($0.evalTop1!) })
    }

    func testNonFiniteLossStopsCleanlyAndKeepsTheLastGoodCheckpoint() throws {
        var poisoned = SyntheticImages()
        poisoned.poisoned = 3
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // One clean epoch first, so there is a good checkpoint.
        let model = try peft("linear")
        var c = config(epochs: 2, method: "linear")
        c.evalEvery = 1
        XCTAssertThrowsError(try Trainer(model: model, config: c, train: PoisonFromEpoch(inner: poisoned, epoch: 1), eval: nil, folder: folder,
                                         progress: ProgressReporter(quiet: true)).run()) { error in
            XCTAssertTrue("\(error)".contains("loss is nan"), "\(error)")
            XCTAssertTrue("\(error)".contains("checkpoint.safetensors"), "\(error)")
        }
        let state = try XCTUnwrap(TrainingCheckpoint.state(in: folder))
        XCTAssertEqual(state.epoch, 1, "the checkpoint of the last good epoch stays")
    }

    func testAnotherRunsCheckpointIsRefusedBeforeTraining() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = SyntheticImages(perClass: 2)
        _ = try Trainer(model: try peft("linear"), config: config(epochs: 1), train: train, eval: nil, folder: folder, progress: ProgressReporter(quiet: true)).run()
        var other = config(epochs: 1)
        other.lr = 0.5
        XCTAssertThrowsError(try Trainer(model: try peft("linear"), config: other, train: train, eval: nil, folder: folder,
                                         progress: ProgressReporter(quiet: true)).run()) { XCTAssertTrue("\($0)".contains("different run"), "\($0)") }
        XCTAssertThrowsError(try Trainer(model: try peft("linear"), config: config(epochs: 1), train: train, eval: nil, folder: folder,
                                         progress: ProgressReporter(quiet: true)).run()) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
    }

    /// V-PETL steps timm's scheduler after each epoch: epoch e trains at f(e − 1), epoch 0 at f(0).
    func testPerEpochLearningRatesFollowVPETL() throws {
        var c = config(epochs: 100, lr: 1e-3)
        (c.warmupEpochs, c.minLR, c.warmupLR) = (10, 1e-5, 1e-6)
        let trainer = Trainer(model: try peft("linear"), config: c, train: SyntheticImages(perClass: 1), eval: nil, folder: nil)
        XCTAssertEqual(trainer.learningRate(epoch: 0, update: 0), 1e-6, accuracy: 1e-15)
        XCTAssertEqual(trainer.learningRate(epoch: 1, update: 0), 1e-6, accuracy: 1e-15)
        XCTAssertEqual(trainer.learningRate(epoch: 2, update: 0), 1e-6 + (1e-3 - 1e-6) / 10, accuracy: 1e-15)
        XCTAssertEqual(trainer.learningRate(epoch: 11, update: 0), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + cos(Double.pi * 10 / 100)), accuracy: 1e-15)
    }

    func testProtocolBookkeeping() {
        let history = [EpochRecord(epoch: 10, lr: 0, trainLoss: 1, trainImagesPerSecond: 1, evalTop1: 70),
                       EpochRecord(epoch: 20, lr: 0, trainLoss: 1, trainImagesPerSecond: 1, evalTop1: 75),
                       EpochRecord(epoch: 30, lr: 0, trainLoss: 1, trainImagesPerSecond: 1, evalTop1: 72)]
        XCTAssertEqual(EvaluationProtocol.vpetl.trainSplit, "train800val200")
        XCTAssertEqual(EvaluationProtocol.vpetl.evalSplit, "test")
        XCTAssertEqual(EvaluationProtocol.vpetl.reported(from: history)?.score, 75)
        XCTAssertTrue(EvaluationProtocol.vpetl.reported(from: history)!.kind.contains("test-set selection"))
        XCTAssertEqual(EvaluationProtocol.honest.reported(from: history)?.score, 72)
        XCTAssertEqual(EvaluationProtocol.honestSelect.trainSplit, "train800")
        XCTAssertEqual(EvaluationProtocol.honestSelect.evalSplit, "val200")
        XCTAssertEqual(EvaluationProtocol.honestSelect.reported(from: history)?.score, 72)
        // The record names the split evaluated: VTAB-1k's by default, another task's when given.
        XCTAssertEqual(EvaluationProtocol.honest.reported(from: history)?.kind, "final epoch (test)")
        XCTAssertEqual(EvaluationProtocol.honestSelect.reported(from: history)?.kind, "final epoch (val200, for selection)")
        XCTAssertEqual(EvaluationProtocol.honest.reported(from: history, evalSplit: "validation")?.kind, "final epoch (validation)")
    }
}

/// Requests an interrupt after a number of batches (as Ctrl-C would).
struct InterruptingSource: BatchSource {
    let inner: BatchSource
    let stopAfterBatches: Int
    var classes: Int { inner.classes }
    var sampleCount: Int { inner.sampleCount }

    func batches(epoch: Int) throws -> BatchStream {
        let perEpoch = (inner.sampleCount + 7) / 8
        let stream = try inner.batches(epoch: epoch)
        var i = 0
        return BatchStream {
            guard let batch = try stream.next() else { return nil }
            if epoch * perEpoch + i + 1 >= stopAfterBatches { Interrupt.request() }
            i += 1
            return batch
        }
    }
}

/// Clean data before `epoch`, the poisoned source from then on.
struct PoisonFromEpoch: BatchSource {
    let inner: SyntheticImages
    let epoch: Int
    var classes: Int { inner.classes }
    var sampleCount: Int { inner.sampleCount }

    func batches(epoch e: Int) throws -> BatchStream {
        var source = inner
        if e < epoch { source.poisoned = nil }
        return try source.batches(epoch: e)
    }
}

extension TrainerTests {
    func testListedEvaluationEpochs() throws {
        var c = config(epochs: 5, method: "linear")
        (c.evalEvery, c.evalEpochs, c.warmupEpochs) = (100, [2, 3], 0)
        let (_, state) = try Trainer(model: try peft("linear"), config: c, train: SyntheticImages(perClass: 2), eval: SyntheticImages(perClass: 1, shuffle: false),
                                     folder: nil, progress: ProgressReporter(quiet: true)).run()
        XCTAssertEqual(state.history.filter { $0.evalTop1 != nil }.map(\.epoch), [2, 3, 5])
    }

    /// Partial-k trains with its frozen blocks in evaluation mode (VPT), others use drop-path everywhere.
    func testFrozenBlocksRunInEvaluationModeForPartialTuning() throws {
        let threeBlocks = Self.tiny.replacingOccurrences(of: "cls_token", with: "layer_scale_no_cls")
        func model(_ method: String, _ options: [String: Any]) throws -> PEFTModel {
            try PEFTModel(backbone: try VisionTransformer.load(model: threeBlocks), method: try MethodRegistry.method(named: method, options: options), classes: 5)
        }
        let partial = try model("partial", ["k": 1])
        partial.setDropPathRate(0.2)
        XCTAssertEqual((partial.backbone as! VisionTransformer).blocks.map(\.dropPath), [0, 0, 0.2])
        let lora = try model("lora", [:])
        lora.setDropPathRate(0.2)
        XCTAssertEqual((lora.backbone as! VisionTransformer).blocks.map(\.dropPath), [0, 0.1, 0.2])
    }
}

extension TrainerTests {
    func testTimmWeightDecayGroupsExemptBiasesAndNorms() throws {
        var c = config(epochs: 1, method: "bitfit")
        c.decayAll = false
        let model = try peft("ln_tune")
        let trainer = Trainer(model: model, config: c, train: SyntheticImages(perClass: 1), eval: nil, folder: nil)
        let decayed = trainer.optimizer.groups.filter { $0.weightDecay > 0 }.flatMap(\.parameters)
        XCTAssertEqual(decayed.map(\.shape), [[5, 32]], "only the head weight decays; norms and biases are exempt")
        XCTAssertEqual(Trainer(model: try peft("ln_tune"), config: config(epochs: 1), train: SyntheticImages(perClass: 1), eval: nil, folder: nil)
                        .optimizer.groups.count, 1, "V-PETL: one group, everything decays")
    }

    /// SCT calibrates on the un-augmented training images before the first epoch (and refuses to
    /// train without them); the chosen channels are saved with the adapter and come back on load.
    func testCalibratingMethodCalibratesBeforeTrainingAndSavesItsState() throws {
        let train = SyntheticImages(perClass: 4)
        let c = config(epochs: 1, method: "sct")
        XCTAssertThrowsError(try Trainer(model: try peft("sct", options: ["channels": 8]), config: c, train: train, eval: nil, folder: nil,
                                         progress: ProgressReporter(quiet: true)).run()) {
            XCTAssertTrue("\($0)".contains("sct calibrates on the training data"), "\($0)")
        }
        let model = try peft("sct", options: ["channels": 8])
        _ = try Trainer(model: model, config: c, train: train, eval: nil, folder: nil, progress: ProgressReporter(quiet: true),
                        calibration: BatchSourceCalibration(train)).run()
        let channels = model.stateTensors.map(\.tensor.scalars)
        XCTAssertEqual(channels.count, 2)
        XCTAssertTrue(channels.contains { $0 != (0..<8).map(Float.init) }, "calibration chose channels")
        for c in channels { XCTAssertEqual(c, c.sorted(), "ascending") }

        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fresh = try VisionTransformer.load(model: Self.tiny)
        try AdapterFile.save(model, backboneFingerprint: Fingerprint.of(fresh), to: folder)
        let loaded = try AdapterFile.load(folder, onto: fresh)
        XCTAssertEqual(loaded.stateTensors.map(\.tensor.scalars), channels)
    }

    /// Linear probing, partial-k and the side networks (LST, LAST: every block's output) compute
    /// their frozen front once per image (the cache), and train as without it (to float
    /// rounding); methods that touch every block have no frozen prefix.
    func testFrozenPrefixCacheTrainsLikeTheUncachedModel() throws {
        let train = SyntheticImages(perClass: 4), test = SyntheticImages(perClass: 2, shuffle: false, seed: 2)
        let cases: [(String, [String: Any], FrozenPrefix)] = [
            ("linear", [:], .features), ("partial", ["k": 1], .blockInput(1)), ("lst", ["width": 8, "heads": 2], .blockOutputs), ("last", ["rank": 4], .blockOutputs),
        ]
        for (method, options, point) in cases {
            var results: [[Float]] = []
            for budget in [64, 0] {
                var c = config(epochs: 3, method: method)
                c.cacheFrozenMB = budget
                let model = try peft(method, options: options)
                let trainer = Trainer(model: model, config: c, train: train, eval: test, folder: nil, progress: ProgressReporter(quiet: true))
                let (_, state) = try trainer.run()
                if budget > 0 { XCTAssertEqual(model.frozenPrefix, point, method) }
                results.append(model.trainableTensors.flatMap(\.tensor.scalars) + state.history.compactMap { $0.evalTop1.map(Float.init) })
            }
            // Not bit for bit: BLAS may round a sample's prefix differently in another batch.
            XCTAssertEqual(results[0].count, results[1].count)
            let worst = zip(results[0], results[1]).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max()!
            XCTAssertLessThan(worst, 1e-4, "\(method): cached and uncached training agree")
            // One forward: a cached batch gives the uncached logits.
            let model = try peft(method, options: options)
            model.setDropPathRate(0.1)
            let cache = try XCTUnwrap(FrozenPrefixCache(model: model, source: train, budgetBytes: 1 << 20))
            let batch = try XCTUnwrap(try train.batches(epoch: 0).next())
            _ = try withoutGradients { try cache.logits(batch) }            // fills the cache
            XCTAssertGreaterThan(cache.storedBytes, 0)
            let cached = try withoutGradients { try cache.logits(batch)! }, plain = withoutGradients { model.forward(batch.images).logits! }
            XCTAssertEqual(cached.scalars, plain.scalars, "\(method): same batch, same logits")
        }
        let lora = try peft("lora")
        lora.setDropPathRate(0.1)
        XCTAssertNil(lora.frozenPrefix, "LoRA touches every block")
        let linear = try peft("linear")
        linear.setDropPathRate(0.1)
        XCTAssertEqual(linear.frozenPrefix, .features, "linear probing runs the frozen encoder without drop-path")
        XCTAssertNotNil(FrozenPrefixCache(model: linear, source: train, budgetBytes: 1 << 20))
        XCTAssertNil(FrozenPrefixCache(model: linear, source: train, budgetBytes: 0))
    }

    /// Frozen-prefix rows on disk: the first cache computes and writes every sample's row, a
    /// second one (another run) reads them all and gives the same logits as the plain forward;
    /// a damaged file is recomputed and rewritten, not used. A training run with
    /// `cache_frozen_dir` trains as the uncached one.
    func testFrozenPrefixStoreSharesRowsAcrossRuns() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = SyntheticImages(perClass: 4, shuffle: false)
        let model = try peft("last", options: ["rank": 4])
        func pass(_ cache: FrozenPrefixCache) throws -> [Float] {
            let stream = try train.batches(epoch: 0)
            var logits: [Float] = []
            while let batch = try stream.next() { logits += try withoutGradients { try cache.logits(batch)!.scalars } }
            return logits
        }
        let plain = try withoutGradients { () -> [Float] in
            let stream = try train.batches(epoch: 0)
            var logits: [Float] = []
            while let batch = try stream.next() { logits += model.forward(batch.images).logits!.scalars }
            return logits
        }
        let first = try XCTUnwrap(FrozenPrefixCache(model: model, source: train, budgetBytes: 0, storeRoot: folder))
        XCTAssertEqual(first.point, .blockOutputs)
        let written = try pass(first)
        XCTAssertEqual(first.rowsWritten, train.sampleCount)
        XCTAssertEqual(first.storedBytes, 0, "no memory budget: disk only")
        let files = try FileManager.default.contentsOfDirectory(at: first.store!.folder, includingPropertiesForKeys: nil)
        XCTAssertEqual(files.filter { $0.pathExtension == "safetensors" }.count, train.sampleCount)

        let second = try XCTUnwrap(FrozenPrefixCache(model: model, source: train, budgetBytes: 0, storeRoot: folder))
        let read = try pass(second)
        XCTAssertEqual([second.rowsRead, second.rowsWritten], [train.sampleCount, 0])
        XCTAssertEqual(read, written, "rows read back are the rows written")
        XCTAssertLessThan(zip(read, plain).map { Swift.abs($0 - $1) }.max()!, 1e-4, "and give the plain forward's logits")

        let damaged = files.first { $0.pathExtension == "safetensors" }!
        try Data("not a tensor file".utf8).write(to: damaged)
        let third = try XCTUnwrap(FrozenPrefixCache(model: model, source: train, budgetBytes: 0, storeRoot: folder))
        XCTAssertEqual(try pass(third), written)
        XCTAssertEqual([third.rowsRead, third.rowsWritten], [train.sampleCount - 1, 1], "the damaged row is recomputed")
        XCTAssertNoThrow(try SafeTensors.read(damaged), "and rewritten")

        var results: [[Float]] = []
        for dir in [folder.path, nil] {
            var c = config(epochs: 2, method: "last")
            (c.cacheFrozenMB, c.cacheFrozenDir) = (0, dir)
            let trained = try peft("last", options: ["rank": 4])
            _ = try Trainer(model: trained, config: c, train: train, eval: nil, folder: nil, progress: ProgressReporter(quiet: true)).run()
            results.append(trained.trainableTensors.flatMap(\.tensor.scalars))
        }
        XCTAssertLessThan(zip(results[0], results[1]).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max()!, 1e-4)
    }

    /// `recompute_mlp` (activation checkpointing of fc1 → GELU) trains bit for bit as without it,
    /// with and without hooks inside fc1 (SSF scales its output); a dropout rate inside the
    /// recomputed layers is refused by name.
    func testRecomputedMLPTrainsIdentically() throws {
        let train = SyntheticImages(perClass: 3)
        // AdaptFormer's parallel adapter reads norm2's output (fc1 → GELU recomputed); the others
        // do not (norm2 → fc1 → GELU recomputed, with SSF's and LoRA's hooks inside, Adapter's
        // sequential one after).
        for method in ["adapter", "adaptformer", "vpt_deep", "ssf", "lora"] {
            var results: [[Float]] = []
            for recompute in [false, true] {
                var c = config(epochs: 2, method: method)
                c.recomputeMLP = recompute
                let model = try peft(method, options: method == "lora" ? ["targets": ["fc1", "v"]] : [:])
                _ = try Trainer(model: model, config: c, train: train, eval: nil, folder: nil, progress: ProgressReporter(quiet: true)).run()
                XCTAssertEqual((model.backbone as! VisionTransformer).recomputesMLP, recompute)
                results.append(model.trainableTensors.flatMap(\.tensor.scalars))
            }
            XCTAssertEqual(results[0], results[1], method)
        }
        var c = config(method: "lora")
        (c.recomputeMLP, c.methodOptions) = (true, ["dropout": .number(0.1)])
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("recompute_mlp"), "\($0)") }
    }
}
