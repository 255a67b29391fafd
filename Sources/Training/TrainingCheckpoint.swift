import Foundation
import NN
import PEFT
import Tensor

/// Where a run stands: enough to continue exactly where it stopped.
public struct TrainingState: Codable, Equatable {
    /// The resolved config's fingerprint: a checkpoint only resumes the same run.
    public var configHash: String
    /// The epoch in progress and the next batch of it (0 at an epoch boundary).
    public var epoch: Int
    public var batchInEpoch: Int
    /// Batches processed since the start (seeds each step's randomness).
    public var globalBatch: Int
    /// Loss sum and images of the epoch in progress.
    public var epochLossSum: Double
    public var epochImages: Int
    /// Correct top-1 predictions of the epoch in progress (on the augmented training batches);
    /// nil when resumed inside an epoch from a checkpoint written before they were counted.
    public var epochCorrect: Int?
    public var history: [EpochRecord]

    enum CodingKeys: String, CodingKey {
        case configHash = "config_hash", epoch, batchInEpoch = "batch_in_epoch", globalBatch = "global_batch"
        case epochLossSum = "epoch_loss_sum", epochImages = "epoch_images", epochCorrect = "epoch_correct", history
    }
}

/// One finished epoch.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var lr: Double
    public var trainLoss: Double
    public var trainImagesPerSecond: Double
    /// Top-1 accuracy (%) on the epoch's training batches as trained on (augmented, in training
    /// mode); nil when not counted (see `TrainingState.epochCorrect`).
    public var trainTop1: Double?
    /// The task's headline evaluation score in % (top-1 accuracy, or mIoU for segmentation):
    /// what protocols select and report.
    public var evalScore: Double? { evalTop1 ?? evalMIoU }

    /// Evaluation accuracy when this epoch was evaluated.
    public var evalTop1: Double?
    public var evalTop5: Double?
    public var evalLoss: Double?
    public var evalImagesPerSecond: Double?
    /// Segmentation scores (%) when this epoch was evaluated: mmseg's mIoU, mAcc and aAcc over
    /// the whole split (`SegmentationMetrics`).
    public var evalMIoU: Double?
    public var evalMAcc: Double?
    public var evalAAcc: Double?
    /// Seconds the training loop waited for the loader this epoch (prefetching should make it ~0).
    public var dataWaitSeconds: Double?
    /// Peak tensor memory (MiB) of this process so far: the storage pool's peak, the number run
    /// records report as peak memory.
    public var peakMemoryMB: Double?

    public init(epoch: Int, lr: Double, trainLoss: Double, trainImagesPerSecond: Double, evalTop1: Double? = nil, evalTop5: Double? = nil,
                evalLoss: Double? = nil, evalImagesPerSecond: Double? = nil) {
        (self.epoch, self.lr, self.trainLoss, self.trainImagesPerSecond) = (epoch, lr, trainLoss, trainImagesPerSecond)
        (self.evalTop1, self.evalTop5, self.evalLoss, self.evalImagesPerSecond) = (evalTop1, evalTop5, evalLoss, evalImagesPerSecond)
    }

    enum CodingKeys: String, CodingKey {
        case epoch, lr, trainLoss = "train_loss", trainImagesPerSecond = "train_images_per_s", trainTop1 = "train_top1"
        case peakMemoryMB = "peak_memory_mb", evalMIoU = "eval_miou", evalMAcc = "eval_macc", evalAAcc = "eval_aacc"
        case evalTop1 = "eval_top1", evalTop5 = "eval_top5", evalLoss = "eval_loss", evalImagesPerSecond = "eval_images_per_s", dataWaitSeconds = "data_wait_s"
    }
}

/// `checkpoint.safetensors` in a run's folder: the trainable tensors (`model.<name>`), the
/// optimiser state (`optimizer.<name>`) and the `TrainingState` as JSON metadata — one file,
/// written atomically, so a crash leaves either the old or the new checkpoint, never a mix.
public enum TrainingCheckpoint {
    public static let fileName = "checkpoint.safetensors"

    public static func save(_ state: TrainingState, model: PEFTModel, optimizer: Optimizer, in folder: URL) throws {
        var tensors: [String: Tensor] = [:]
        for (name, t) in model.savedTensors { tensors["model.\(name)"] = t }
        for (name, t) in optimizer.exportState(names: model.trainableTensors) { tensors["optimizer.\(name)"] = t }
        let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try SafeTensors.write(tensors, metadata: ["vpeft_training_state": json], to: folder.appendingPathComponent(fileName))
    }

    /// The saved state, or nil when the folder has no checkpoint.
    public static func state(in folder: URL) throws -> TrainingState? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try read(url).state
    }

    /// Restores tensors and optimiser state; returns the state to continue from.
    public static func restore(into model: PEFTModel, optimizer: Optimizer, from folder: URL) throws -> TrainingState {
        let url = folder.appendingPathComponent(fileName)
        let (state, file) = try read(url)
        for (name, t) in model.savedTensors {
            guard let stored = file.tensors["model.\(name)"], stored.shape == t.shape else {
                throw ConfigError("\(url.path): checkpoint lacks trainable tensor '\(name)' \(t.shape) — it belongs to another method or model")
            }
            t.data.update(from: stored.data, count: t.count)
        }
        do { try model.method.validateState(of: model) } catch { throw ConfigError("\(url.path): \(error)") }
        var optimizerState: [String: Tensor] = [:]
        for (key, t) in file.tensors where key.hasPrefix("optimizer.") { optimizerState[String(key.dropFirst("optimizer.".count))] = t }
        do { try optimizer.importState(optimizerState, names: model.trainableTensors) } catch {
            throw ConfigError("\(url.path): \(error)")
        }
        return state
    }

    private static func read(_ url: URL) throws -> (state: TrainingState, file: SafeTensors.File) {
        let file = try SafeTensors.read(url)
        guard let json = file.metadata["vpeft_training_state"],
              let state = try? JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) else {
            throw ConfigError("\(url.path): not a V-PEFT Bench training checkpoint")
        }
        return (state, file)
    }
}
