import Foundation
import Models
import NN
import PEFT
import Tensor

/// The training loop: AdamW/SGD with parameter groups, warm-up + cosine schedule (per epoch as
/// V-PETL steps it, or per step) or mmseg's poly schedule (per step), drop-path, gradient
/// clipping and accumulation, evaluation on a schedule, atomic checkpoints and exact resume. The
/// task is an `objective`: the loss of a batch and the scores of a split (classification with
/// label smoothing by default; segmentation with `SegmentationObjective`). With a folder,
/// each process also writes a TensorBoard event file there (`TrainingEventLog`).
///
/// All randomness of a step (drop-path, dropout) is drawn from `seed` and the step's global
/// index, and the data of an epoch depends only on the source's seed and the epoch, so a run
/// resumed from any checkpoint ends bit-identical to an uninterrupted one.
public final class Trainer {
    public let model: PEFTModel
    public let config: TrainingConfig
    public let train: BatchSource
    public let eval: BatchSource?
    public let folder: URL?
    public let progress: ProgressReporter
    public let optimizer: Optimizer
    public let objective: TrainingObjective
    private let schedule: LearningRateSchedule

    /// The training images without augmentation, for methods that calibrate before training.
    let calibration: (any CalibrationData)?

    public init(model: PEFTModel, config: TrainingConfig, train: BatchSource, eval: BatchSource?, folder: URL?,
                progress: ProgressReporter = ProgressReporter(), calibration: (any CalibrationData)? = nil, objective: TrainingObjective? = nil) {
        self.model = model
        self.objective = objective ?? ClassificationObjective(labelSmoothing: Float(config.labelSmoothing))
        self.calibration = calibration
        self.config = config
        self.train = train
        self.eval = eval
        self.folder = folder
        self.progress = progress
        model.setDropPathRate(Float(config.dropPath))
        // V-PETL: weight decay on every trainable tensor (one group); timm's rule exempts biases
        // and 1-D tensors (a second group without decay). `head_lr_scale` ≠ 1 sets the head's
        // tensors apart in groups of their own.
        let exempt = { (name: String, t: Tensor) in !config.decayAll && (t.rank <= 1 || name.hasSuffix(".bias")) }
        let headTensors = (model.backbone.head?.parameters ?? []) + (model.taskHead?.headParameters.map(\.tensor) ?? [])
        let head = config.headLRScale == 1 ? [] : Set(headTensors.map(ObjectIdentifier.init))
        var groups: [ParameterGroup] = []
        for inHead in [false, true] {
            let tensors = model.trainableTensors.filter { head.contains(ObjectIdentifier($0.tensor)) == inHead }
            let scale = Float(inHead ? config.headLRScale : 1)
            groups += [ParameterGroup(tensors.filter { !exempt($0.name, $0.tensor) }.map(\.tensor), weightDecay: Float(config.weightDecay), learningRateScale: scale),
                       ParameterGroup(tensors.filter { exempt($0.name, $0.tensor) }.map(\.tensor), weightDecay: 0, learningRateScale: scale)]
        }
        groups = groups.filter { !$0.parameters.isEmpty }
        optimizer = config.optimizer == "sgd"
            ? SGD(groups, learningRate: Float(config.lr), momentum: Float(config.momentum))
            : AdamW(groups, learningRate: Float(config.lr))
        let stepsPerEpoch = max(1, (train.sampleCount + config.batchSize - 1) / config.batchSize / config.gradAccumulation)
        if config.usesPolySchedule {
            schedule = .poly(base: config.lr, totalT: config.epochs * stepsPerEpoch, power: config.polyPower ?? 1, minLR: config.minLR,
                             warmupT: config.warmupIters ?? 0, warmupRatio: config.warmupRatio ?? 1e-6)
        } else {
            let unit = config.schedulePer == "step" ? stepsPerEpoch : 1
            schedule = .cosine(base: config.lr, tInitial: config.epochs * unit, warmupT: config.warmupEpochs * unit,
                               lrMin: config.minLR, warmupLRInit: config.warmupLR)
        }
    }

    /// The learning rate for an epoch (per-epoch stepping) or an update (per-step stepping; the
    /// poly schedule always steps per update, as mmseg's `by_epoch=False`).
    /// Per epoch, timm's scheduler is stepped after each epoch with that epoch's index, so
    /// epoch e trains at f(e − 1) and epoch 0 at the warm-up start f(0) (docs/protocols.md).
    public func learningRate(epoch: Int, update: Int) -> Double {
        config.schedulePer == "step" || config.usesPolySchedule ? schedule.value(at: update) : schedule.value(at: max(epoch - 1, 0))
    }

    public enum Outcome: Equatable {
        case finished
        /// Stopped by Ctrl-C after writing a checkpoint.
        case interrupted
    }

    /// Trains from scratch, or from the folder's checkpoint when `resume` is set.
    public func run(resume: Bool = false) throws -> (outcome: Outcome, state: TrainingState) {
        let hash = Trainer.hash(config)
        BLAS.precision = BLAS.Precision(rawValue: config.precision) ?? .fp32
        if BLAS.precision == .bf16 { progress.line("products: \(BLAS.productsDescription)") }
        (model.backbone as? VisionTransformer)?.recomputesMLP = config.recomputeMLP
        var state = TrainingState(configHash: hash, epoch: 0, batchInEpoch: 0, globalBatch: 0, epochLossSum: 0, epochImages: 0, epochCorrect: 0, history: [])
        if let folder, let saved = try TrainingCheckpoint.state(in: folder) {
            guard saved.configHash == hash else {
                throw ConfigError("\(folder.path) holds a checkpoint of a different run (config fingerprint \(saved.configHash), this run \(hash)); choose another --out")
            }
            guard resume else {
                throw ConfigError("\(folder.path) already holds a checkpoint of this run: add --resume to continue it, or choose another --out")
            }
            state = try TrainingCheckpoint.restore(into: model, optimizer: optimizer, from: folder)
            progress.line("resuming at epoch \(state.epoch + 1), batch \(state.batchInEpoch)")
        } else if type(of: model.method).calibrates {
            // A resumed run has its calibrated state from the checkpoint.
            let name = type(of: model.method).name
            guard let calibration else { throw ConfigError("\(name) calibrates on the training data before training, and no calibration data was given") }
            progress.line("calibrating \(name) on the training images")
            try model.method.calibrate(model, on: calibration)
        }
        let events = try folder.map { try TrainingEventLog(folder: $0, config: config, firstEpoch: state.epoch + 1,
                                                            freshStart: state.globalBatch == 0) }
        if let events { progress.line("TensorBoard events: \(events.file.url.path)") }
        // Frozen-prefix caches (their point is only known now that drop-path is set): none where the
        // model has no frozen prefix (a task head, a backbone other than a ViT), and then no
        // fingerprint of the weights either.
        let cacheable = model.frozenPrefix != nil
        let budget = cacheable ? config.cacheFrozenMB << 20 : 0
        let storeRoot = cacheable ? config.cacheFrozenDir.map { URL(fileURLWithPath: $0) } : nil
        let fingerprint = storeRoot == nil ? nil : Fingerprint.of(model.backbone)
        let trainCache = FrozenPrefixCache(model: model, source: train, budgetBytes: budget, storeRoot: storeRoot, backboneFingerprint: fingerprint)
        let evalCache = eval.flatMap { FrozenPrefixCache(model: model, source: $0, budgetBytes: budget, storeRoot: storeRoot, backboneFingerprint: fingerprint) }
        if let cache = trainCache {
            progress.line("frozen prefix cached per image: \(cache.point)" + (cache.store.map { " (memory \(config.cacheFrozenMB) MiB, disk \($0.folder.path))" } ?? ""))
        }
        let root = SeededRandom(seed: config.seed)
        let batchesPerEpoch = (train.sampleCount + config.batchSize - 1) / config.batchSize
        while state.epoch < config.epochs {
            let epoch = state.epoch
            let epochStart = Date()
            var epochImagesTimed = 0
            var index = -1
            var dataWait = 0.0
            let stream = try train.batches(epoch: epoch)
            while true {
                let waitStart = Date()
                guard let batch = try stream.next() else { break }
                dataWait += Date().timeIntervalSince(waitStart)
                index += 1
                if index < state.batchInEpoch { continue }   // resuming inside this epoch
                let update = state.globalBatch / config.gradAccumulation
                let lr = learningRate(epoch: epoch, update: update)
                optimizer.learningRate = Float(lr)
                let rng = root.derived("step-\(state.globalBatch)")
                let (loss, correct) = try objective.trainingLoss(model, batch: batch, options: ForwardOptions(training: true), rng: rng, cache: trainCache)
                let images = batch.images.shape[0]
                guard loss.item.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: epoch, batch: index, value: loss.item,
                                                      checkpoint: folder.map { $0.appendingPathComponent(TrainingCheckpoint.fileName).path })
                }
                (config.gradAccumulation > 1 ? loss * (1 / Float(config.gradAccumulation)) : loss).backward()
                state.globalBatch += 1
                state.batchInEpoch = index + 1
                state.epochLossSum += Double(loss.item) * Double(images)
                state.epochImages += images
                state.epochCorrect = correct.flatMap { c in state.epochCorrect.map { $0 + c } }
                epochImagesTimed += images
                let boundary = state.globalBatch % config.gradAccumulation == 0 || index + 1 == batchesPerEpoch
                if boundary {
                    if config.gradClip > 0 { clipGradientNorm(optimizer.parameters, maxNorm: Float(config.gradClip)) }
                    optimizer.step()
                    optimizer.zeroGrad()
                }
                let elapsed = Date().timeIntervalSince(epochStart)
                let speed = Double(epochImagesTimed) / max(elapsed, 1e-9)
                let remaining = Double((config.epochs - epoch) * batchesPerEpoch - index - 1) * Double(config.batchSize) / max(speed, 1e-9)
                progress.step(epoch: epoch, epochs: config.epochs, step: index + 1, steps: batchesPerEpoch,
                              loss: state.epochLossSum / Double(max(state.epochImages, 1)), lr: lr, imagesPerSecond: speed, eta: remaining)
                if Interrupt.requested && boundary {
                    if let folder { try TrainingCheckpoint.save(state, model: model, optimizer: optimizer, in: folder) }
                    progress.line("interrupted: checkpoint written at epoch \(epoch + 1), batch \(index + 1); continue with --resume")
                    return (.interrupted, state)
                }
            }
            var record = EpochRecord(epoch: epoch + 1, lr: learningRate(epoch: epoch, update: 0),
                                     trainLoss: state.epochLossSum / Double(max(state.epochImages, 1)),
                                     trainImagesPerSecond: Double(epochImagesTimed) / max(Date().timeIntervalSince(epochStart), 1e-9))
            record.dataWaitSeconds = dataWait
            record.trainTop1 = state.epochCorrect.map { 100 * Double($0) / Double(max(state.epochImages, 1)) }
            if let eval, (epoch + 1) % config.evalEvery == 0 || config.evalEpochs.contains(epoch + 1) || epoch + 1 == config.epochs {
                try objective.evaluate(model, on: eval, cache: evalCache, into: &record)
            }
            record.peakMemoryMB = Double(BufferPool.shared.peakBytes) / 1_048_576
            state.history.append(record)
            try events?.epochFinished(record)
            progress.line(String(format: "epoch %d/%d  train loss %.4f  %.1f img/s  data wait %.2f s", epoch + 1, config.epochs, record.trainLoss,
                                 record.trainImagesPerSecond, record.dataWaitSeconds ?? 0)
                          + (record.evalTop1.map { String(format: "  eval top-1 %.2f%%", $0) } ?? "")
                          + (record.evalMIoU.map { String(format: "  eval mIoU %.2f%%", $0) } ?? ""))
            state.epoch += 1
            state.batchInEpoch = 0
            state.epochLossSum = 0
            state.epochImages = 0
            state.epochCorrect = 0
            if let folder { try TrainingCheckpoint.save(state, model: model, optimizer: optimizer, in: folder) }
        }
        return (.finished, state)
    }

    /// FNV-1a of the config's canonical JSON (everything that changes the run's result).
    static func hash(_ config: TrainingConfig) -> String {
        var copy = config
        copy.threads = nil   // the thread count does not change results
        copy.cacheFrozenMB = 0   // nor does caching the frozen prefix (beyond float rounding)
        copy.cacheFrozenDir = nil
        copy.recomputeMLP = false   // nor does recomputing activations
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(copy)) ?? Data()
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in data { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return String(h, radix: 16)
    }
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(epoch: Int, batch: Int, value: Float, checkpoint: String?)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, batch, value, checkpoint):
            return "training stopped: loss is \(value) at epoch \(epoch + 1), batch \(batch + 1) (try a lower lr or grad_clip)"
                + (checkpoint.map { "; the last good checkpoint is \($0)" } ?? "")
        }
    }
}
