import Datasets
import Tensor

/// A video dataset split as the trainer's `BatchSource`: batches of clips [B, T, 3, S, S].
/// Training batches follow (seed, epoch) alone — order from `EpochOrder.permutation`, each clip
/// from its sample's own stream — so a resumed run sees the clips an uninterrupted one would.
/// Evaluation batches hold one test view per video (`view` of `views`); averaging a video's
/// views is the evaluator's job and is not done yet.
public struct VideoBatchSource: BatchSource {
    public let reader: VideoClipReader
    public let batchSize: Int
    /// Nil: training clips from the training split; otherwise this test view of the test split.
    public let testView: (view: Int, views: VideoTestViews)?

    public init(reader: VideoClipReader, batchSize: Int, testView: (view: Int, views: VideoTestViews)? = nil) {
        precondition(batchSize > 0, "batch size \(batchSize) must be positive")
        (self.reader, self.batchSize, self.testView) = (reader, batchSize, testView)
    }

    public var classes: Int { reader.splits.classCount }
    public var sampleCount: Int { testView == nil ? reader.splits.train.count : reader.splits.test.count }
    public var isDeterministic: Bool { testView != nil }

    public func batches(epoch: Int) throws -> BatchStream {
        let order = EpochOrder.permutation(count: sampleCount, seed: reader.seed, epoch: epoch, shuffle: testView == nil)
        let samples = testView == nil ? reader.splits.train : reader.splits.test
        var start = 0
        return BatchStream { [reader, batchSize, testView] in
            guard start < order.count else { return nil }
            let indices = Array(order[start..<min(start + batchSize, order.count)])
            start += indices.count
            let clips = try indices.map { index in
                try testView.map { try reader.testClip(index, view: $0.view, of: $0.views) } ?? reader.trainingClip(index, epoch: epoch)
            }
            let batch = Tensor(uninitializedShape: [clips.count] + clips[0].shape)
            for (i, clip) in clips.enumerated() { (batch.data + i * clip.count).update(from: clip.data, count: clip.count) }
            return Batch(images: batch, labels: indices.map { samples[$0].label }, indices: indices)
        }
    }
}
