import Foundation
import Tensor

/// mmseg's semantic segmentation metrics (`IoUMetric`: mIoU, mAcc, aAcc), accumulated over a
/// whole dataset.
///
/// Per image, pixels labelled `ignoreIndex` are dropped; then, per class, the areas of
/// intersection (prediction = label = class), prediction and label are counted and summed over
/// the dataset; union = prediction + label − intersection. From the dataset totals:
///
///     IoU_c = intersection_c / union_c       Acc_c = intersection_c / label_c
///     aAcc  = Σ intersection / Σ label        mIoU, mAcc = means over classes, NaN skipped
///
/// A class absent from both predictions and labels has IoU 0/0 = NaN; a class never labelled has
/// Acc NaN (and IoU 0 if it was predicted). Means skip NaN (`np.nanmean`), so those classes do
/// not count. These are ratios of dataset totals, not means of per-image scores, which weigh
/// small images as much as large ones and differ (the tests show a case). mmseg prints them as
/// percentages rounded to two decimals; these are fractions.
public struct SegmentationMetrics: Equatable, Sendable {
    public let numClasses: Int
    public let ignoreIndex: Int
    public private(set) var intersection: [Int]
    public private(set) var predicted: [Int]
    public private(set) var labelled: [Int]
    public private(set) var images = 0

    public init(numClasses: Int, ignoreIndex: Int = 255) {
        precondition(numClasses > 0, "SegmentationMetrics: numClasses \(numClasses) must be positive")
        self.numClasses = numClasses
        self.ignoreIndex = ignoreIndex
        intersection = Array(repeating: 0, count: numClasses)
        predicted = intersection
        labelled = intersection
    }

    /// Adds one image (or any set of pixels): predicted and true class per pixel, same order.
    /// A label other than `ignoreIndex` outside 0..<numClasses is an error (mmseg's `histc`
    /// would silently drop it, hiding a label-mapping mistake such as a missed reduce-zero-label).
    public mutating func add(prediction: [Int], label: [Int]) throws {
        guard prediction.count == label.count else {
            throw SegmentationMetricsError("\(prediction.count) predicted pixels for \(label.count) labelled ones")
        }
        // Check everything first, so a rejected image leaves the totals untouched.
        for (p, l) in zip(prediction, label) where l != ignoreIndex {
            guard (0..<numClasses).contains(l) else {
                throw SegmentationMetricsError("label \(l) outside 0..<\(numClasses) and not the ignore index \(ignoreIndex)")
            }
            guard (0..<numClasses).contains(p) else { throw SegmentationMetricsError("predicted class \(p) outside 0..<\(numClasses)") }
        }
        for (p, l) in zip(prediction, label) where l != ignoreIndex {
            labelled[l] += 1
            predicted[p] += 1
            if p == l { intersection[l] += 1 }
        }
        images += 1
    }

    /// Adds a batch of logits [B, C, H, W] (prediction = the first class with the largest
    /// logit, as `argmax`) against labels [B, H, W] flattened; each sample counts as an image.
    public mutating func add(logits: Tensor, labels: [Int]) throws {
        guard logits.rank == 4, logits.shape[1] == numClasses else {
            throw SegmentationMetricsError("logits \(logits.shape) are not [B, \(numClasses), H, W]")
        }
        let (b, plane) = (logits.shape[0], logits.shape[2] * logits.shape[3])
        guard labels.count == b * plane else { throw SegmentationMetricsError("\(labels.count) labels for logits \(logits.shape)") }
        let predictions = Self.predictedLabels(logits)
        for n in 0..<b {
            let range = (n * plane)..<((n + 1) * plane)
            try add(prediction: Array(predictions[range]), label: Array(labels[range]))
        }
    }

    /// The predicted class of every pixel of logits [B, C, H, W]: the first class with the
    /// largest logit (as `argmax`), [B, H, W] flattened.
    public static func predictedLabels(_ logits: Tensor) -> [Int] {
        let (b, c, plane) = (logits.shape[0], logits.shape[1], logits.shape[2] * logits.shape[3])
        var prediction = [Int](repeating: 0, count: b * plane)
        for n in 0..<b {
            let base = logits.data + n * c * plane
            for p in 0..<plane {
                var best = 0
                for k in 1..<c where base[k * plane + p] > base[best * plane + p] { best = k }
                prediction[n * plane + p] = best
            }
        }
        return prediction
    }

    public var union: [Int] { (0..<numClasses).map { predicted[$0] + labelled[$0] - intersection[$0] } }

    /// Per class; NaN where the class is neither predicted nor labelled.
    public var iou: [Double] { zip(intersection, union).map { Double($0) / Double($1) } }
    /// Per class; NaN where the class is never labelled.
    public var accuracy: [Double] { zip(intersection, labelled).map { Double($0) / Double($1) } }
    public var meanIoU: Double { Self.nanMean(iou) }
    public var meanAccuracy: Double { Self.nanMean(accuracy) }
    /// Correct pixels over labelled pixels, all classes together.
    public var allAccuracy: Double { Double(intersection.reduce(0, +)) / Double(labelled.reduce(0, +)) }

    /// The mean of the non-NaN values; NaN when there are none (as `np.nanmean`).
    static func nanMean(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }
}

public struct SegmentationMetricsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = "segmentation metrics: " + description }
}
