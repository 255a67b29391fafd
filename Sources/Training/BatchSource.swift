import Datasets
import Tensor

/// One batch of training or evaluation data.
public struct Batch {
    /// [B, 3, H, W] images or [B, T, 3, S, S] video clips, preprocessed.
    public var images: Tensor
    /// One class per image; for segmentation one per pixel of the label maps, [B, H, W]
    /// flattened (`labelSize` gives H and W, which may differ from the images' at evaluation).
    public var labels: [Int]
    /// Which samples of the source these are (nil when the source does not say): the key of
    /// frozen-prefix caches.
    public var indices: [Int]?
    /// The label maps' height and width (segmentation).
    public var labelSize: (height: Int, width: Int)?
    /// Segmentation: the same images at every test scale (multi-scale testing), `images` among
    /// them; empty when evaluation uses `images` alone. (A video's test views are rows of
    /// `images` instead: `BatchSource.viewsPerSample`.)
    public var scaledImages: [Tensor] = []

    public init(images: Tensor, labels: [Int], indices: [Int]? = nil, labelSize: (height: Int, width: Int)? = nil, scaledImages: [Tensor] = []) {
        self.images = images
        self.labels = labels
        self.indices = indices
        self.labelSize = labelSize
        self.scaledImages = scaledImages
    }
}

/// Labelled images the trainer and evaluator draw batches from. An epoch's order and
/// augmentation depend only on the source's seed and the epoch number, so a resumed run sees
/// exactly the data an uninterrupted one would.
public protocol BatchSource {
    var classes: Int { get }
    var sampleCount: Int { get }
    /// The batches of `epoch` (shuffled and augmented for training sources).
    func batches(epoch: Int) throws -> BatchStream
    /// Whether a sample's input is the same every epoch (no augmentation), so what a frozen
    /// prefix computes from it can be reused.
    var isDeterministic: Bool { get }
    /// How many rows of a batch show one sample (a video's test views): > 1 means adjacent rows
    /// with equal `indices` are views of one sample, scored by their averaged probabilities.
    var viewsPerSample: Int { get }
    /// What names sample `index`'s input across runs (its file and the preprocessing): the key
    /// of on-disk frozen-prefix rows; nil when the source cannot say.
    func featureCacheKey(sample index: Int) -> FeatureCacheKey?
}

extension BatchSource {
    public var isDeterministic: Bool { false }
    public var viewsPerSample: Int { 1 }
    public func featureCacheKey(sample index: Int) -> FeatureCacheKey? { nil }
}

/// The batches of one epoch, read one at a time; reading may fail (a corrupt image), and the
/// error reaches the caller instead of ending the epoch silently.
public struct BatchStream {
    private let produce: () throws -> Batch?

    public init(_ produce: @escaping () throws -> Batch?) { self.produce = produce }

    /// A stream over batches already in memory.
    public init(_ batches: [Batch]) {
        var iterator = batches.makeIterator()
        produce = { iterator.next() }
    }

    public func next() throws -> Batch? { try produce() }
}
