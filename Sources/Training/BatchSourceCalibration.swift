import PEFT
import Tensor

/// The training split read once, in order, as a calibrating method's data: `plain` with the
/// evaluation preprocessing; `views` unshuffled with augmentation, whose epochs 0 and 1 are two
/// independent augmentations of the same images in the same order (GPS's view pairs).
public struct BatchSourceCalibration: CalibrationData {
    let plain: BatchSource
    let views: BatchSource?

    public init(_ plain: BatchSource, views: BatchSource? = nil) { (self.plain, self.views) = (plain, views) }

    public func forEachBatch(_ body: (_ images: Tensor, _ labels: [Int]) throws -> Void) throws {
        let stream = try plain.batches(epoch: 0)
        while let batch = try stream.next() { try body(batch.images, batch.labels) }
    }

    public func forEachViewPair(_ body: (_ first: Tensor, _ second: Tensor, _ labels: [Int]) throws -> Void) throws {
        guard let views else { throw ConfigError("this method needs augmented views of the training images, and none were given") }
        let (first, second) = (try views.batches(epoch: 0), try views.batches(epoch: 1))
        while let a = try first.next() {
            guard let b = try second.next(), a.labels == b.labels else { throw ConfigError("the two augmented passes over the training images differ in order") }
            try body(a.images, b.images, a.labels)
        }
    }
}
