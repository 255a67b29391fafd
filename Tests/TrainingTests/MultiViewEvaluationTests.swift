import Foundation
import Models
import PEFT
import Tensor
import Training
import XCTest

/// Multi-view testing (a video's temporal clips × spatial crops): the evaluator scores each
/// sample once, on its views' averaged softmax probabilities, as VideoMAE's `merge` does.
final class MultiViewEvaluationTests: XCTestCase {
    /// Each sample of `SyntheticImages` shown as `views` noisy variants in adjacent rows, with
    /// batches that split a sample's views across two batches.
    struct NoisyViews: BatchSource {
        let base = SyntheticImages(perClass: 3, noise: 1.5, shuffle: false, seed: 4)
        let views = 3
        var classes: Int { base.classes }
        var sampleCount: Int { base.sampleCount }
        var viewsPerSample: Int { views }
        var isDeterministic: Bool { true }

        func rows() -> [(image: Tensor, label: Int, index: Int)] {
            var rng = SeededRandom(seed: 9)
            return base.images.indices.flatMap { i in
                (0..<views).map { _ in (base.images[i] + Tensor.normal(base.images[i].shape, std: 1.5, using: &rng), base.labels[i], i) }
            }
        }

        func batches(epoch: Int) throws -> BatchStream {
            let all = rows()
            return BatchStream(stride(from: 0, to: all.count, by: 4).map { start in
                let chunk = all[start..<min(start + 4, all.count)]
                return Batch(images: concat(chunk.map { $0.image.reshaped([1] + $0.image.shape) }, dim: 0).copy(),
                             labels: chunk.map(\.label), indices: chunk.map(\.index))
            })
        }
    }

    func testViewsAreScoredTogetherOnAveragedProbabilities() throws {
        let model = try PEFTModel(backbone: try VisionTransformer.load(model: TrainerTests.tiny),
                                  method: try MethodRegistry.method(named: "linear", options: [:]), classes: 5, seed: 3)
        let source = NoisyViews()
        let result = try Evaluator.evaluate(model, on: source)
        XCTAssertEqual(result.images, source.sampleCount, "one score per sample, not per view")

        // The same by hand: softmax of every view, averaged per sample, argmax.
        var sums: [Int: [Double]] = [:], lossSum = 0.0
        let rows = source.rows()
        for row in rows {
            let logits = withoutGradients { model.forward(row.image.reshaped([1] + row.image.shape)).logits! }
            let values = logits.scalars.map(Double.init)
            let top = values.max()!, total = values.map { exp($0 - top) }.reduce(0, +)
            let probabilities = values.map { exp($0 - top) / total }
            sums[row.index] = zip(sums[row.index] ?? [Double](repeating: 0, count: 5), probabilities).map(+)
            lossSum -= log(probabilities[row.label])
        }
        let correct = sums.filter { index, sum in sum.indices.max { sum[$0] < sum[$1] } == source.base.labels[index] }.count
        XCTAssertEqual(result.top1, 100 * Double(correct) / Double(source.sampleCount), accuracy: 1e-9)
        XCTAssertEqual(result.loss, lossSum / Double(rows.count), accuracy: 1e-4, "loss is the mean over views")
    }

    /// A multi-view source must name the sample of every row.
    func testRowsWithoutIndicesAreAnError() throws {
        struct Unnamed: BatchSource {
            var classes: Int { 5 }
            var sampleCount: Int { 1 }
            var viewsPerSample: Int { 2 }
            func batches(epoch: Int) throws -> BatchStream {
                BatchStream([Batch(images: Tensor.zeros([2, 3, 16, 16]), labels: [0, 0])])
            }
        }
        let model = try PEFTModel(backbone: try VisionTransformer.load(model: TrainerTests.tiny),
                                  method: try MethodRegistry.method(named: "linear", options: [:]), classes: 5, seed: 3)
        XCTAssertThrowsError(try Evaluator.evaluate(model, on: Unnamed())) { error in
            XCTAssertTrue("\(error)".contains("name each row's sample"), "\(error)")
        }
    }
}
