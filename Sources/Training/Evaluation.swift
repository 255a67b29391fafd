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
    /// `cache` (for this source) supplies stored frozen-prefix outputs. A source that shows each
    /// sample in several views (`viewsPerSample`, a video's test views) is scored per sample on
    /// its views' averaged softmax probabilities, as VideoMAE's multi-view test; `loss` stays
    /// the mean over views.
    public static func evaluate(_ model: PEFTModel, on source: BatchSource, confusion: Bool = false, cache: FrozenPrefixCache? = nil) throws -> EvaluationResult {
        let classes = source.classes
        var correct1 = 0, correct5 = 0, seen = 0, views = 0, lossSum = 0.0
        var hits = [Int](repeating: 0, count: classes), totals = hits
        var matrix = confusion ? [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes) : nil
        func score(_ scores: [Float], label: Int) {
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            if ranked[0] == label { correct1 += 1; hits[label] += 1 }
            if ranked.prefix(5).contains(label) { correct5 += 1 }
            totals[label] += 1
            matrix?[label][ranked[0]] += 1
            seen += 1
        }
        // The views of the sample being averaged (multi-view sources only).
        var pending: (index: Int, label: Int, probabilities: [Float], count: Int)?
        func finishPending() {
            guard let sample = pending else { return }
            score(sample.probabilities.map { $0 / Float(sample.count) }, label: sample.label)
            pending = nil
        }
        let multiView = source.viewsPerSample > 1
        let start = Date()
        let stream = try source.batches(epoch: 0)
        while let batch = try stream.next() {
            let logits = try withoutGradients { try cache?.logits(batch) ?? model.forward(batch.images).logits! }
            let c = logits.shape[1]
            guard c == classes else { throw ConfigError("model has \(c) classes, evaluation data has \(classes)") }
            lossSum += Double(withoutGradients { crossEntropy(logits, targets: batch.labels).item }) * Double(batch.labels.count)
            views += batch.labels.count
            for (i, label) in batch.labels.enumerated() {
                let row = Array(UnsafeBufferPointer(start: logits.data + i * c, count: c))
                guard multiView else { score(row, label: label); continue }
                guard let index = batch.indices?[i] else { throw ConfigError("a multi-view evaluation source must name each row's sample") }
                if pending?.index != index { finishPending(); pending = (index, label, [Float](repeating: 0, count: c), 0) }
                let probabilities = softmax(row)
                for k in 0..<c { pending!.probabilities[k] += probabilities[k] }
                pending!.count += 1
            }
        }
        finishPending()
        guard seen > 0 else { throw ConfigError("evaluation data is empty") }
        return EvaluationResult(
            top1: 100 * Double(correct1) / Double(seen), top5: 100 * Double(correct5) / Double(seen), loss: lossSum / Double(views),
            images: seen, perClass: zip(hits, totals).map { $1 > 0 ? 100 * Double($0) / Double($1) : nil }, confusion: matrix,
            imagesPerSecond: Double(views) / max(Date().timeIntervalSince(start), 1e-9))
    }

    /// Softmax of one row of logits, in Double for the sums (then Float, as stored).
    static func softmax(_ row: [Float]) -> [Float] {
        let top = Double(row.max() ?? 0)
        let exps = row.map { Foundation.exp(Double($0) - top) }
        let total = exps.reduce(0, +)
        return exps.map { Float($0 / total) }
    }
}
