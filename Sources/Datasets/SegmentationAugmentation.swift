import Foundation
import Tensor

/// mmseg's training augmentation for semantic segmentation (its ADE20K/VOC 512×512 recipes),
/// applied to an image and its label map together:
///
/// 1. `RandomResize(scale, ratio_range, keep_ratio=True)`: ratio r ~ U(ratio range); the target
///    is (⌊long·r⌋, ⌊short·r⌋) and the image is scaled by min(target long / image long,
///    target short / image short), sides rounded half up — image bilinear, labels nearest;
/// 2. `RandomCrop(crop, cat_max_ratio)`: a uniformly placed crop (the whole side where the image
///    is smaller); up to 10 redraws until the crop holds more than one non-ignored class and no
///    class covers `catMaxRatio` or more of its labelled pixels (the 10th draw is kept anyway);
/// 3. `RandomFlip(prob)`: horizontal, both together;
/// 4. `PhotoMetricDistortion` (when `photometricDistortion` is set, as in mmseg's recipes): the
///    image only, after the flip, where mmseg's pipeline puts it;
/// 5. the data preprocessor's padding to the crop size, bottom and right: image 0, labels 255.
///
/// Known differences: images are resized with PIL's bilinear filter where mmseg uses OpenCV's
/// (pixel values differ slightly; the geometry is the same). Every draw comes from the `rng` passed in, so a sample's augmentation is a function
/// of its stream.
public struct SegmentationAugmentation: Codable, Equatable, Sendable {
    /// (long, short) sides before the random ratio: mmseg's (2048, 512).
    public var scale = [2048, 512]
    public var ratioRange: [Float] = [0.5, 2.0]
    public var cropSize = 512
    public var catMaxRatio: Float = 0.75
    public var flipProbability: Float = 0.5
    public var ignoreIndex: UInt8 = 255
    /// nil leaves the colours alone.
    public var photometricDistortion: PhotoMetricDistortion? = PhotoMetricDistortion()

    public init() {}

    public func apply(image: RGB8Image, labels: LabelMap, rng: inout SeededRandom) -> (image: RGB8Image, labels: LabelMap) {
        precondition(image.width == labels.width && image.height == labels.height,
                     "SegmentationAugmentation: image \(image.width)×\(image.height) and labels \(labels.width)×\(labels.height) differ")
        let ratio = ratioRange[0] + rng.nextUniform() * (ratioRange[1] - ratioRange[0])
        let size = Self.keepRatioSize(width: image.width, height: image.height,
                                      long: Int(Float(scale.max()!) * ratio), short: Int(Float(scale.min()!) * ratio))
        var img = image.resized(width: size.width, height: size.height, interpolation: .bilinear)
        var lab = labels.resized(width: size.width, height: size.height)
        let box = cropBox(lab, rng: &rng)
        img = img.cropped(to: box)
        lab = lab.cropped(to: box, fill: ignoreIndex)
        if rng.nextUniform() < flipProbability {
            img = img.flippedHorizontally()
            lab = lab.flippedHorizontally()
        }
        if let photometricDistortion { img = photometricDistortion.apply(to: img, rng: &rng) }
        let padded = TorchvisionGeometry.Box(left: 0, top: 0, width: Swift.max(cropSize, img.width), height: Swift.max(cropSize, img.height))
        return (img.cropped(to: padded), lab.cropped(to: padded, fill: ignoreIndex))
    }

    /// mmcv's `rescale_size`: scale factor min(long / max(w, h), short / min(w, h)), each side
    /// `int(side · factor + 0.5)`.
    public static func keepRatioSize(width: Int, height: Int, long: Int, short: Int) -> (width: Int, height: Int) {
        let factor = Swift.min(Double(long) / Double(Swift.max(width, height)), Double(short) / Double(Swift.min(width, height)))
        return (Swift.max(Int(Double(width) * factor + 0.5), 1), Swift.max(Int(Double(height) * factor + 0.5), 1))
    }

    /// mmseg's `RandomCrop.crop_bbox` (the crop clipped to the map).
    func cropBox(_ labels: LabelMap, rng: inout SeededRandom) -> TorchvisionGeometry.Box {
        func draw() -> TorchvisionGeometry.Box {
            let top = rng.nextInt(Swift.max(labels.height - cropSize, 0) + 1), left = rng.nextInt(Swift.max(labels.width - cropSize, 0) + 1)
            return .init(left: left, top: top, width: Swift.min(cropSize, labels.width - left), height: Swift.min(cropSize, labels.height - top))
        }
        var box = draw()
        guard catMaxRatio < 1 else { return box }
        for _ in 0..<10 {
            var counts = [Int](repeating: 0, count: 256)
            for row in box.top..<(box.top + box.height) {
                for column in box.left..<(box.left + box.width) { counts[Int(labels.labels[row * labels.width + column])] += 1 }
            }
            counts[Int(ignoreIndex)] = 0
            let present = counts.filter { $0 > 0 }
            if present.count > 1 && Float(present.max()!) / Float(present.reduce(0, +)) < catMaxRatio { break }
            box = draw()
        }
        return box
    }
}
