import Tensor

/// The clips of a video dataset as network inputs [T, 3, S, S] (Hugging Face's per-sample layout):
/// training clips drawn as VideoMAE draws them, evaluation clips as one of its test views.
///
/// Training, per sample and epoch (its own random stream, `EpochOrder.augmentationRandom`), in
/// VideoMAE's order: the split's frame sampling; RandAugment drawn once and applied alike to
/// every frame (VideoMAE: rand-m7-n4-mstd0.5-inc1, bicubic, ImageNet-mean fill); one
/// RandomResizedCrop box (area `cropScale`: VideoMAE's 8–100 %; aspect 3/4–4/3, torchvision's draw) shared by every
/// frame, resized to S × S (PIL bilinear); a horizontal flip with probability ½ unless `flips` is
/// off (Something-Something-V2: its labels say left or right); then, after normalisation, random
/// erasing of each frame on its own (`erasing`). VideoMAE resizes the crop with torch's bilinear
/// interpolation instead.
public struct VideoClipReader: Sendable {
    public let splits: VideoDatasetSplits
    public let size: Int
    public let flips: Bool
    public let seed: UInt64
    public let randAugment: RandAugment?
    public let erasing: RandomErasing?
    public let normalization: PixelNormalization
    /// The area range of the training clips' random-resized crop (VideoMAE: 0.08…1). A task whose
    /// label is the speed of motion wants a narrow one: a small crop blown up to the clip size
    /// magnifies the motion too.
    public let cropScale: ClosedRange<Double>

    /// VideoMAE's fine-tuning RandAugment (`--aa rand-m7-n4-mstd0.5-inc1`, `--train_interpolation
    /// bicubic`, fill = the ImageNet mean in 0–255).
    public static let videoMAERandAugment = try! RandAugment(spec: "rand-m7-n4-mstd0.5-inc1", fill: (124, 116, 104), resampling: .bicubic)

    public init(splits: VideoDatasetSplits, size: Int, flips: Bool, seed: UInt64, randAugment: RandAugment? = nil,
                erasing: RandomErasing? = nil, normalization: PixelNormalization = .imagenet, cropScale: ClosedRange<Double> = 0.08...1) {
        precondition(size > 0, "clip size \(size) must be positive")
        precondition(cropScale.lowerBound > 0 && cropScale.upperBound <= 1, "crop scale \(cropScale) must lie in (0, 1]")
        (self.splits, self.size, self.flips, self.seed) = (splits, size, flips, seed)
        (self.randAugment, self.erasing, self.normalization, self.cropScale) = (randAugment, erasing, normalization, cropScale)
    }

    /// Sample `index` of the training split in `epoch`: [T, 3, size, size].
    public func trainingClip(_ index: Int, epoch: Int) throws -> Tensor {
        let sample = splits.train[index]
        let video = try splits.frames(of: sample)
        var rng = EpochOrder.augmentationRandom(seed: seed, epoch: epoch, index: index)
        let frames = try video.frames(at: splits.sampling.trainingIndices(frameCount: video.frameCount, rng: &rng))
        let operations = randAugment?.draw(using: &rng) ?? []
        let fill = randAugment.map { ($0.fill[0], $0.fill[1], $0.fill[2]) } ?? (0, 0, 0)
        let box = TorchvisionGeometry.randomResizedCrop(width: frames[0].width, height: frames[0].height,
                                                        scale: cropScale, ratio: 0.75...(4.0 / 3), using: &rng)
        let flip = flips && rng.nextInt(2) == 1
        let packer = TensorPacker(normalization: normalization)
        let plane = 3 * size * size
        let clip = Tensor(uninitializedShape: [frames.count, 3, size, size])
        for (t, frame) in frames.enumerated() {
            guard frame.width == frames[0].width, frame.height == frames[0].height else {
                throw DatasetError(file: video.source, "frames change size within the clip (\(frames[0].width)×\(frames[0].height), then \(frame.width)×\(frame.height))")
            }
            let augmented = operations.reduce(frame) { $1.apply(to: $0, fill: fill) }
            var crop = augmented.cropped(to: box).resized(width: size, height: size, interpolation: .bilinear)
            if flip { crop = crop.flippedHorizontally() }
            packer.write(crop, to: clip.data + t * plane)
        }
        if let erasing {
            for t in 0..<frames.count { erasing.apply(to: clip.data + t * plane, channels: 3, height: size, width: size, using: &rng) }
        }
        return clip
    }

    /// Every test view of sample `index` of the test split, clip-major as `VideoTestViews.views`:
    /// [views, T, 3, size, size]. Deterministic; each frame is decoded once.
    public func testViews(_ index: Int) throws -> Tensor {
        let video = try splits.frames(of: splits.test[index])
        return try VideoClipPacker(size: size, views: splits.testViews, normalization: normalization).testViews(of: video, sampling: splits.sampling)
    }
}
