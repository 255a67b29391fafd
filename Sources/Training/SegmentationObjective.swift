import Foundation
import Heads
import Models
import PEFT
import Tensor

/// Semantic segmentation as a training objective: the segmenter's loss (per-pixel
/// cross-entropy, 255 ignored, + the auxiliary head's loss times its weight) on training
/// batches; mmseg's mIoU/mAcc/aAcc over the whole split to evaluate. The segmenter is the PEFT
/// model's task head; methods act on its backbone.
public final class SegmentationObjective: TrainingObjective {
    public let segmenter: UperNetSegmenter
    public let inference: SegmentationInference
    public let testFlip: Bool
    /// The latest evaluation (per-class scores for the run record).
    public private(set) var lastEvaluation: SegmentationEvaluation?

    public init(segmenter: UperNetSegmenter, inference: SegmentationInference = .whole, testFlip: Bool = false) {
        (self.segmenter, self.inference, self.testFlip) = (segmenter, inference, testFlip)
    }

    public func trainingLoss(_ model: PEFTModel, batch: Batch, options: ForwardOptions, rng: SeededRandom, cache: FrozenPrefixCache?) throws
        -> (loss: Tensor, correct: Int?) {
        guard batch.labels.count == batch.images.shape[0] * batch.images.shape[2] * batch.images.shape[3] else {
            throw ConfigError("segmentation batch: \(batch.labels.count) labels for images \(batch.images.shape) (one label per pixel expected)")
        }
        segmenter.setTraining(options.training)   // evaluation switches the heads' BatchNorm off
        model.beginPass(options: options, rng: rng)
        return (segmenter.loss(segmenter.forward(batch.images, options: options, rng: rng), labels: batch.labels), nil)
    }

    public func evaluate(_ model: PEFTModel, on source: BatchSource, cache: FrozenPrefixCache?, into record: inout EpochRecord) throws {
        let result = try evaluate(model, on: source)
        (record.evalMIoU, record.evalMAcc, record.evalAAcc) = (result.meanIoU, result.meanAccuracy, result.allAccuracy)
        record.evalImagesPerSecond = result.imagesPerSecond
    }

    /// Scores `model` on `source` (heads in evaluation mode, no graph): each image's logits by
    /// `inference` at every test view (and mirrored, with `testFlip`, flipped back), resized
    /// bilinearly to the label map's size; with several views the softmax probabilities are
    /// averaged, as mmseg's test-time augmentation does. Metrics accumulate over the whole split.
    public func evaluate(_ model: PEFTModel, on source: BatchSource) throws -> SegmentationEvaluation {
        segmenter.setTraining(false)
        let options = ForwardOptions()
        model.beginPass(options: options, rng: SeededRandom(seed: 0))
        var metrics = SegmentationMetrics(numClasses: segmenter.classes, ignoreIndex: segmenter.config.lossIgnoreIndex)
        let start = Date()
        let stream = try source.batches(epoch: 0)
        while let batch = try stream.next() {
            let scores = self.scores(batch)
            do { try metrics.add(logits: scores, labels: batch.labels) } catch {
                throw ConfigError("evaluation image \(batch.indices.map { "\($0)" } ?? "?"): \(error)")
            }
        }
        guard metrics.images > 0 else { throw ConfigError("evaluation data is empty") }
        let result = SegmentationEvaluation(metrics, seconds: Date().timeIntervalSince(start))
        lastEvaluation = result
        return result
    }

    /// The scores of an evaluation batch at its label map's size (logits, or averaged
    /// probabilities over several views), as `evaluate` scores them; the heads must be in
    /// evaluation mode. Their argmax over classes is the predicted mask.
    public func scores(_ batch: Batch) -> Tensor {
        let options = ForwardOptions()
        let labelSize = batch.labelSize ?? (batch.images.shape[2], batch.images.shape[3])
        return withoutGradients { () -> Tensor in
            let views = (batch.scaledImages.isEmpty ? [batch.images] : batch.scaledImages).flatMap { view in testFlip ? [(view, false), (view, true)] : [(view, false)] }
            var sum: Tensor?
            for (view, flipped) in views {
                var logits = inference.logits(flipped ? horizontallyFlipped(view) : view) { segmenter.forward($0, options: options).logits }
                if flipped { logits = horizontallyFlipped(logits) }
                if spatialSizeOf(logits) != [labelSize.height, labelSize.width] { logits = resize(logits, to: labelSize, filter: .bilinear) }
                guard views.count > 1 else { return logits }
                let probabilities = logits.softmax(dim: 1)
                sum = sum.map { $0 + probabilities } ?? probabilities
            }
            return sum! * (1 / Float(views.count))
        }
    }

    private func spatialSizeOf(_ x: Tensor) -> [Int] { [x.shape[2], x.shape[3]] }
}

/// A segmentation evaluation in %, as mmseg reports it (fractions × 100): NaN scores (a class
/// neither labelled nor predicted) are nil, which JSON can hold.
public struct SegmentationEvaluation: Codable, Equatable, Sendable {
    public var meanIoU: Double?
    public var meanAccuracy: Double?
    public var allAccuracy: Double?
    public var perClassIoU: [Double?]
    public var perClassAccuracy: [Double?]
    public var images: Int
    public var imagesPerSecond: Double

    public init(_ metrics: SegmentationMetrics, seconds: Double) {
        func percent(_ x: Double) -> Double? { x.isNaN ? nil : 100 * x }
        meanIoU = percent(metrics.meanIoU)
        meanAccuracy = percent(metrics.meanAccuracy)
        allAccuracy = percent(metrics.allAccuracy)
        perClassIoU = metrics.iou.map(percent)
        perClassAccuracy = metrics.accuracy.map(percent)
        images = metrics.images
        imagesPerSecond = Double(metrics.images) / max(seconds, 1e-9)
    }

    enum CodingKeys: String, CodingKey {
        case meanIoU = "miou", meanAccuracy = "macc", allAccuracy = "aacc", perClassIoU = "per_class_iou", perClassAccuracy = "per_class_acc"
        case images, imagesPerSecond = "images_per_s"
    }
}
