import Datasets
import Tensor
import Training

/// A generated separable image dataset: each class is a fixed random pattern plus noise, so a
/// tiny ViT can learn it in a few epochs. Shuffling depends only on (seed, epoch).
struct SyntheticImages: BatchSource {
    let classes: Int
    let images: [Tensor]      // [3, H, W] each
    let labels: [Int]
    let batchSize: Int
    let shuffle: Bool
    let seed: UInt64
    /// Replace every value of this sample with NaN (to test the NaN stop).
    var poisoned: Int?

    init(classes: Int = 5, perClass: Int = 12, size: Int = 16, noise: Float = 0.6, batchSize: Int = 8, shuffle: Bool = true, seed: UInt64 = 1) {
        var rng = SeededRandom(seed: 100)
        let prototypes = (0..<classes).map { _ in Tensor.normal([3, size, size], using: &rng) }
        var images: [Tensor] = [], labels: [Int] = []
        for c in 0..<classes {
            for _ in 0..<perClass {
                images.append(prototypes[c] + Tensor.normal([3, size, size], std: noise, using: &rng))
                labels.append(c)
            }
        }
        (self.classes, self.images, self.labels) = (classes, images, labels)
        (self.batchSize, self.shuffle, self.seed) = (batchSize, shuffle, seed)
    }

    var sampleCount: Int { images.count }
    /// No augmentation: a sample is the same tensor every epoch.
    var isDeterministic: Bool { true }
    /// The images follow from the generator's settings (the shuffling seed does not change them).
    func featureCacheKey(sample index: Int) -> FeatureCacheKey? {
        FeatureCacheKey(sample: "synthetic/\(classes) classes/\(images.count) images/\(images[0].shape)/\(index)", preprocessing: "none")
    }

    func batches(epoch: Int) throws -> BatchStream {
        var order = Array(images.indices)
        if shuffle {
            var rng = SeededRandom(seed: seed).derived("epoch-\(epoch)")
            order.shuffle(using: &rng)
        }
        let chunks = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        return BatchStream(chunks.map { indices in
            let batch = concat(indices.map { images[$0].reshaped([1] + images[$0].shape) }, dim: 0).copy()
            if let poisoned, let i = indices.firstIndex(of: poisoned) {
                let n = images[0].count
                for j in 0..<n { batch.data[i * n + j] = .nan }
            }
            return Batch(images: batch, labels: indices.map { labels[$0] }, indices: indices)
        })
    }
}
