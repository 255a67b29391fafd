import Tensor

/// One batch from the loader: preprocessed images, their labels, and which samples they are
/// (indices into the source, for logging, per-sample metrics and feature caches).
public struct ImageBatch: @unchecked Sendable {
    /// [B, 3, H, W].
    public let images: Tensor
    public let labels: [Int]
    public let indices: [Int]
    public let epoch: Int
    /// Position of the batch within its epoch.
    public let number: Int

    public var count: Int { labels.count }
}
