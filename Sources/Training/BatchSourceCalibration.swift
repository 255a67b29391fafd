import PEFT
import Tensor

/// A batch source read once, in order, as a calibrating method's data (SCT).
public struct BatchSourceCalibration: CalibrationData {
    let source: BatchSource

    public init(_ source: BatchSource) { self.source = source }

    public func forEachBatch(_ body: (_ images: Tensor, _ labels: [Int]) throws -> Void) throws {
        let stream = try source.batches(epoch: 0)
        while let batch = try stream.next() { try body(batch.images, batch.labels) }
    }
}
