import Foundation
import PEFT
import Tensor

/// Accuracy of a model on a labelled source.
public struct EvaluationResult: Codable, Equatable, Sendable {
    public var top1: Double
    public var top5: Double
    public var loss: Double
    public var images: Int
    /// Accuracy of each class in %, nil for classes absent from the source.
    public var perClass: [Double?]
    /// confusion[true][predicted] counts, when asked for.
    public var confusion: [[Int]]?
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case top1, top5, loss, images, perClass = "per_class", confusion, imagesPerSecond = "images_per_s"
    }
}

public enum Evaluator {
    /// Runs `model` in evaluation mode (no dropout or drop-path, no graph) over `source`.
    /// `cache` (for this source) supplies stored frozen-prefix outputs.
    public static func evaluate(_ model: PEFTModel, on source: BatchSource, confusion: Bool = false, cache: FrozenPrefixCache? = nil) throws -> EvaluationResult {
        let classes = source.classes
        var correct1 = 0, correct5 = 0, seen = 0, lossSum = 0.0
        var hits = [Int](repeating: 0, count: classes), totals = hits
        var matrix = confusion ? [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes) : nil
        let start = Date()
        let stream = try source.batches(epoch: 0)
        while let batch = try stream.next() {
            let logits = try withoutGradients { try cache?.logits(batch) ?? model.forward(batch.images).logits! }
            let c = logits.shape[1]
            guard c == classes else { throw ConfigError("model has \(c) classes, evaluation data has \(classes)") }
            lossSum += Double(withoutGradients { crossEntropy(logits, targets: batch.labels).item }) * Double(batch.labels.count)
            for (i, label) in batch.labels.enumerated() {
                let row = Array(UnsafeBufferPointer(start: logits.data + i * c, count: c))
                let ranked = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
                if ranked[0] == label { correct1 += 1; hits[label] += 1 }
                if ranked.prefix(5).contains(label) { correct5 += 1 }
                totals[label] += 1
                matrix?[label][ranked[0]] += 1
            }
            seen += batch.labels.count
        }
        guard seen > 0 else { throw ConfigError("evaluation data is empty") }
        return EvaluationResult(
            top1: 100 * Double(correct1) / Double(seen), top5: 100 * Double(correct5) / Double(seen), loss: lossSum / Double(seen),
            images: seen, perClass: zip(hits, totals).map { $1 > 0 ? 100 * Double($0) / Double($1) : nil }, confusion: matrix,
            imagesPerSecond: Double(seen) / max(Date().timeIntervalSince(start), 1e-9))
    }
}
