import Models
import PEFT
import Tensor

/// What the trainer minimises and the evaluator scores. The training loop (schedule, steps,
/// accumulation, checkpoints, resume) is the same for every task; an objective says how a batch
/// becomes a loss and how a split becomes scores. `ClassificationObjective` and
/// `SegmentationObjective` are the two.
public protocol TrainingObjective: AnyObject {
    /// The loss of one training batch (graph recorded, training mode), and the batch's correct
    /// top-1 predictions where the task has them (classification's training accuracy).
    func trainingLoss(_ model: PEFTModel, batch: Batch, options: ForwardOptions, rng: SeededRandom, cache: FrozenPrefixCache?) throws
        -> (loss: Tensor, correct: Int?)
    /// Evaluates `model` on `source` (evaluation mode, no graph) and writes the scores into the
    /// epoch's record.
    func evaluate(_ model: PEFTModel, on source: BatchSource, cache: FrozenPrefixCache?, into record: inout EpochRecord) throws
}

/// Image classification: cross-entropy (with label smoothing) on the classifier's logits;
/// top-1/top-5 from `Evaluator`.
public final class ClassificationObjective: TrainingObjective {
    public let labelSmoothing: Float

    public init(labelSmoothing: Float = 0) { self.labelSmoothing = labelSmoothing }

    public func trainingLoss(_ model: PEFTModel, batch: Batch, options: ForwardOptions, rng: SeededRandom, cache: FrozenPrefixCache?) throws
        -> (loss: Tensor, correct: Int?) {
        let logits = try cache?.logits(batch, options: options, rng: rng) ?? model.forward(batch.images, options: options, rng: rng).logits!
        return (crossEntropy(logits, targets: batch.labels, labelSmoothing: labelSmoothing), Self.correctTop1(logits, labels: batch.labels))
    }

    public func evaluate(_ model: PEFTModel, on source: BatchSource, cache: FrozenPrefixCache?, into record: inout EpochRecord) throws {
        let result = try Evaluator.evaluate(model, on: source, cache: cache)
        (record.evalTop1, record.evalTop5, record.evalLoss) = (result.top1, result.top5, result.loss)
        record.evalImagesPerSecond = result.imagesPerSecond
    }

    /// Rows of `logits` whose largest value (the first, on ties, as `Evaluator` counts) is the label.
    static func correctTop1(_ logits: Tensor, labels: [Int]) -> Int {
        let classes = logits.shape[1]
        var correct = 0
        for (row, label) in labels.enumerated() {
            let values = UnsafeBufferPointer(start: logits.data + row * classes, count: classes)
            var best = 0
            for c in 1..<classes where values[c] > values[best] { best = c }
            if best == label { correct += 1 }
        }
        return correct
    }
}
