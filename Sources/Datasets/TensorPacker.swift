import Tensor

/// Writes images into network input tensors: `ToTensor` (HWC uint8 → CHW [0, 1]) and
/// `Normalize` in one pass through per-channel lookup tables.
public struct TensorPacker: Sendable {
    public let normalization: PixelNormalization
    private let tables: [[Float]]

    public init(normalization: PixelNormalization) {
        self.normalization = normalization
        tables = normalization.lookupTables
    }

    /// The image as a [3, H, W] tensor.
    public func tensor(_ image: RGB8Image) -> Tensor {
        let t = Tensor(uninitializedShape: [3, image.height, image.width])
        write(image, to: t.data)
        return t
    }

    /// Writes `image` as 3 planes of H·W floats starting at `destination`.
    public func write(_ image: RGB8Image, to destination: UnsafeMutablePointer<Float>) {
        let plane = image.width * image.height
        image.pixels.withUnsafeBufferPointer { pixels in
            for c in 0..<3 {
                tables[c].withUnsafeBufferPointer { table in
                    let out = destination + c * plane
                    for i in 0..<plane { out[i] = table[Int(pixels[3 * i + c])] }
                }
            }
        }
    }
}
