import Datasets
import Foundation
import Tensor

/// A segmentation split as the trainer's `BatchSource`: images as normalised tensors, label
/// maps as per-pixel classes (the dataset's convention applied, 255 ignored).
///
/// Training: each epoch in the order `EpochOrder` draws from (seed, epoch), each sample through
/// mmseg's joint transforms (`SegmentationAugmentation`: random resize, cat-max-ratio crop,
/// flip, photometric distortion of the image, padding to the crop) with its stream from (seed, epoch, sample); batches of
/// crop × crop. Evaluation: one image a batch, in order, resized keep-ratio to `imgScale` ×
/// each test scale (mmseg's `Resize(scale, keep_ratio=True)` / `MultiScaleFlipAug`), with its
/// label map at the original size, as mmseg scores it. Images are resized with PIL's bilinear
/// filter (mmseg: OpenCV's).
public struct SegmentationBatchSource: BatchSource {
    public let dataset: SegmentationDataset
    public let training: Bool
    public let settings: SegmentationSettings
    public let packer: TensorPacker
    public let batchSize: Int
    public let seed: UInt64

    public init(dataset: SegmentationDataset, training: Bool, settings: SegmentationSettings, normalization: PixelNormalization, batchSize: Int, seed: UInt64) {
        (self.dataset, self.training, self.settings, self.batchSize, self.seed) = (dataset, training, settings, training ? batchSize : 1, seed)
        packer = TensorPacker(normalization: normalization)
    }

    public var classes: Int { dataset.numClasses }
    public var sampleCount: Int { dataset.samples.count }

    public func batches(epoch: Int) throws -> BatchStream {
        let order = EpochOrder.permutation(count: sampleCount, seed: seed, epoch: epoch, shuffle: training)
        var start = 0
        return BatchStream {
            guard start < order.count else { return nil }
            let indices = Array(order[start..<min(start + batchSize, order.count)])
            start += indices.count
            return try training ? trainingBatch(indices, epoch: epoch) : evaluationBatch(indices[0])
        }
    }

    /// The image and label map of sample `index`, checked to be the same size.
    func sample(_ index: Int) throws -> (image: RGB8Image, labels: LabelMap) {
        let files = dataset.samples[index]
        let image = try ImageDecoder.decode(contentsOf: files.image), labels = try dataset.labels(of: index)
        guard image.width == labels.width && image.height == labels.height else {
            throw DatasetError(file: files.mask.path, "mask is \(labels.width)×\(labels.height), its image \(files.image.path) is \(image.width)×\(image.height)")
        }
        return (image, labels)
    }

    private func trainingBatch(_ indices: [Int], epoch: Int) throws -> Batch {
        let crop = settings.cropSize
        let images = Tensor(uninitializedShape: [indices.count, 3, crop, crop])
        var labels: [Int] = []
        labels.reserveCapacity(indices.count * crop * crop)
        let augmentation = settings.augmentation
        for (row, index) in indices.enumerated() {
            let (image, map) = try sample(index)
            var rng = EpochOrder.augmentationRandom(seed: seed, epoch: epoch, index: index)
            let (augmented, augmentedLabels) = augmentation.apply(image: image, labels: map, rng: &rng)
            packer.write(augmented, to: images.data + row * 3 * crop * crop)
            labels += augmentedLabels.labels.map(Int.init)
        }
        return Batch(images: images, labels: labels, indices: indices, labelSize: (crop, crop))
    }

    private func evaluationBatch(_ index: Int) throws -> Batch {
        let (image, map) = try sample(index)
        let (long, short) = (settings.imgScale.max()!, settings.imgScale.min()!)
        let views = settings.testScales.map { scale -> Tensor in
            let size = SegmentationAugmentation.keepRatioSize(width: image.width, height: image.height,
                                                              long: Int(Double(long) * scale), short: Int(Double(short) * scale))
            let resized = image.resized(width: size.width, height: size.height, interpolation: .bilinear)
            return packer.tensor(resized).reshaped([1, 3, size.height, size.width])
        }
        return Batch(images: views[0], labels: map.labels.map(Int.init), indices: [index], labelSize: (map.height, map.width),
                     scaledImages: views.count > 1 ? views : [])
    }
}
