import Tensor

/// One batch of training or evaluation data.
public struct Batch {
    /// [B, 3, H, W], preprocessed.
    public var images: Tensor
    public var labels: [Int]

    public init(images: Tensor, labels: [Int]) {
        self.images = images
        self.labels = labels
    }
}

/// Labelled images the trainer and evaluator draw batches from. An epoch's order and
/// augmentation depend only on the source's seed and the epoch number, so a resumed run sees
/// exactly the data an uninterrupted one would.
public protocol BatchSource {
    var classes: Int { get }
    var sampleCount: Int { get }
    /// The batches of `epoch` (shuffled and augmented for training sources).
    func batches(epoch: Int) throws -> AnySequence<Batch>
}
