import Datasets
import Tensor

/// A video dataset split as the trainer's `BatchSource`: batches of clips [B, T, 3, S, S].
/// Training batches follow (seed, epoch) alone — order from `EpochOrder.permutation`, each clip
/// from its sample's own stream — so a resumed run sees the clips an uninterrupted one would.
/// Test batches hold every test view of their videos, adjacent and in the split's order, with
/// `indices` naming each row's video: the evaluator averages a video's views
/// (`viewsPerSample`), as VideoMAE's multi-view test does.
public struct VideoBatchSource: BatchSource {
    public let reader: VideoClipReader
    public let batchSize: Int
    /// Training clips from the training split, or every test view of the test split.
    public let isTest: Bool

    /// `batchSize` counts clips: a test batch holds the views of ⌊batchSize / views⌋ videos (at least one).
    public init(reader: VideoClipReader, batchSize: Int, test: Bool = false) {
        precondition(batchSize > 0, "batch size \(batchSize) must be positive")
        (self.reader, self.batchSize, self.isTest) = (reader, batchSize, test)
    }

    public var classes: Int { reader.splits.classCount }
    public var sampleCount: Int { isTest ? reader.splits.test.count : reader.splits.train.count }
    public var isDeterministic: Bool { isTest }
    public var viewsPerSample: Int { isTest ? reader.splits.testViews.count : 1 }

    public func batches(epoch: Int) throws -> BatchStream {
        let order = EpochOrder.permutation(count: sampleCount, seed: reader.seed, epoch: epoch, shuffle: !isTest)
        let samples = isTest ? reader.splits.test : reader.splits.train
        let videosPerBatch = isTest ? max(1, batchSize / viewsPerSample) : batchSize
        var start = 0
        return BatchStream { [reader, isTest, viewsPerSample] in
            guard start < order.count else { return nil }
            let videos = Array(order[start..<min(start + videosPerBatch, order.count)])
            start += videos.count
            // A test video gives [views, T, 3, S, S], a training clip [T, 3, S, S]; rows are clips.
            let clips = try videos.map { isTest ? try reader.testViews($0) : try reader.trainingClip($0, epoch: epoch) }
            let clipShape = isTest ? Array(clips[0].shape.dropFirst()) : clips[0].shape
            let batch = Tensor(uninitializedShape: [videos.count * viewsPerSample] + clipShape)
            var offset = 0
            for clip in clips {
                (batch.data + offset).update(from: clip.data, count: clip.count)
                offset += clip.count
            }
            let rows = videos.flatMap { Array(repeating: $0, count: viewsPerSample) }
            return Batch(images: batch, labels: rows.map { samples[$0].label }, indices: rows)
        }
    }
}
