import Datasets
import Tensor

/// A `Datasets.DataLoader` as the trainer's `BatchSource`.
public struct LoaderBatchSource: BatchSource {
    public let loader: DataLoader

    public init(_ loader: DataLoader) { self.loader = loader }

    public var classes: Int { loader.source.classCount }
    public var sampleCount: Int { loader.source.count }
    public var isDeterministic: Bool { loader.pipeline.isDeterministic }
    public func featureCacheKey(sample index: Int) -> FeatureCacheKey? { loader.featureCacheKey(sample: index) }

    public func batches(epoch: Int) throws -> BatchStream {
        let batches = loader.epoch(epoch)
        return BatchStream { try batches.next().map { Batch(images: $0.images, labels: $0.labels, indices: $0.indices) } }
    }
}
