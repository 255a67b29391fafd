import Foundation
import Tensor

/// Where torchvision's transforms put their output boxes, computed exactly as torchvision does
/// (Python's `int()` truncation and banker's `round()`), so a crop lands on the same pixels.
public enum TorchvisionGeometry {
    /// A box in pixel coordinates; `left`/`top` may be negative when a crop is larger than the
    /// image (torchvision pads with zeros).
    public struct Box: Equatable, Sendable {
        public var left: Int, top: Int, width: Int, height: Int
        public init(left: Int, top: Int, width: Int, height: Int) {
            self.left = left; self.top = top; self.width = width; self.height = height
        }
    }

    /// `Resize(size)` with one int: the shorter side becomes `size`, the longer one
    /// `int(size · long / short)`.
    public static func shorterSide(width: Int, height: Int, to size: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(size * long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }

    /// `CenterCrop`: offset `round((in − out) / 2)` with round-half-to-even; when the crop is
    /// larger, torchvision first pads `(out − in) // 2` zeros before the image.
    public static func centerCrop(width: Int, height: Int, cropWidth: Int, cropHeight: Int) -> Box {
        func offset(_ input: Int, _ output: Int) -> Int {
            if output > input { return -((output - input) / 2) }
            return Int((Double(input - output) / 2).rounded(.toNearestOrEven))
        }
        return Box(left: offset(width, cropWidth), top: offset(height, cropHeight), width: cropWidth, height: cropHeight)
    }

    /// `RandomCrop.get_params` (no padding): top then left, each uniform over the valid range.
    public static func randomCrop(width: Int, height: Int, cropWidth: Int, cropHeight: Int,
                                  using rng: inout SeededRandom) -> Box? {
        guard width >= cropWidth, height >= cropHeight else { return nil }
        let top = rng.nextInt(height - cropHeight + 1)
        let left = rng.nextInt(width - cropWidth + 1)
        return Box(left: left, top: top, width: cropWidth, height: cropHeight)
    }

    /// `RandomResizedCrop.get_params`: up to ten tries of an area fraction uniform in `scale` and
    /// a log-uniform aspect ratio in `ratio`; then torchvision's central fallback.
    public static func randomResizedCrop(width: Int, height: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                                         using rng: inout SeededRandom) -> Box {
        let area = Double(width * height)
        let logRatio = (Foundation.log(ratio.lowerBound), Foundation.log(ratio.upperBound))
        for _ in 0..<10 {
            let targetArea = area * uniform(scale.lowerBound, scale.upperBound, &rng)
            let aspect = Foundation.exp(uniform(logRatio.0, logRatio.1, &rng))
            let w = (targetArea * aspect).squareRoot().rounded(.toNearestOrEven)
            let h = (targetArea / aspect).squareRoot().rounded(.toNearestOrEven)
            if w > 0, w <= Double(width), h > 0, h <= Double(height) {
                let (w, h) = (Int(w), Int(h))
                let top = rng.nextInt(height - h + 1)
                let left = rng.nextInt(width - w + 1)
                return Box(left: left, top: top, width: w, height: h)
            }
        }
        return randomResizedCropFallback(width: width, height: height, ratio: ratio)
    }

    /// The fallback when no try fits: the whole image, trimmed to the nearest allowed ratio.
    public static func randomResizedCropFallback(width: Int, height: Int, ratio: ClosedRange<Double>) -> Box {
        let inputRatio = Double(width) / Double(height)
        var w = width, h = height
        if inputRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inputRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return Box(left: (width - w) / 2, top: (height - h) / 2, width: w, height: h)
    }

    private static func uniform(_ low: Double, _ high: Double, _ rng: inout SeededRandom) -> Double {
        low + (high - low) * Double(rng.next() >> 11) * 0x1p-53
    }
}
