import Tensor

/// How a segmenter turns one test image into logits (mmseg's `test_cfg.mode`):
///
/// - `whole`: one forward over the whole (resized) image;
/// - `slide`: crops of `crop` × `crop` every `stride` pixels, each forward's logits added into
///   its place and every pixel divided by the number of crops covering it — mmseg's
///   `slide_inference`: ⌈(H − crop)/stride⌉ + 1 rows of windows (at least one), window i from
///   y₁ = i·stride, y₂ = min(y₁ + crop, H), then moved back to y₁ = max(y₂ − crop, 0), so the
///   last window ends at the border and a window never leaves the image (an image smaller than
///   the crop is one window, the whole image). Columns likewise.
public enum SegmentationInference: Equatable, Sendable {
    case whole
    case slide(crop: Int, stride: Int)

    /// Logits [B, C, H, W] of `images` [B, 3, H, W]; `forward` gives a crop's logits at the
    /// crop's own size. Runs without a graph.
    public func logits(_ images: Tensor, _ forward: (Tensor) -> Tensor) -> Tensor {
        withoutGradients {
            switch self {
            case .whole: return forward(images)
            case let .slide(crop, stride): return Self.slide(images, crop: crop, stride: stride, forward)
            }
        }
    }

    /// The windows mmseg's `slide_inference` visits on an axis of `length`: (start, length).
    public static func windows(length: Int, crop: Int, stride: Int) -> [(start: Int, length: Int)] {
        let count = max(length - crop + stride - 1, 0) / stride + 1
        return (0..<count).map { i in
            let end = min(i * stride + crop, length)
            let start = max(end - crop, 0)
            return (start, end - start)
        }
    }

    private static func slide(_ images: Tensor, crop: Int, stride: Int, _ forward: (Tensor) -> Tensor) -> Tensor {
        let (b, height, width) = (images.shape[0], images.shape[2], images.shape[3])
        var sum: Tensor?
        var count = [Float](repeating: 0, count: height * width)
        for rows in windows(length: height, crop: crop, stride: stride) {
            for columns in windows(length: width, crop: crop, stride: stride) {
                let window = images.narrowed(2, start: rows.start, length: rows.length).narrowed(3, start: columns.start, length: columns.length)
                let logits = forward(window)
                precondition(logits.shape[0] == b && logits.shape[2] == rows.length && logits.shape[3] == columns.length,
                             "slide inference: logits \(logits.shape) for a \(rows.length)×\(columns.length) window")
                let classes = logits.shape[1]
                if sum == nil { sum = Tensor.zeros([b, classes, height, width]) }
                let out = sum!.data
                for plane in 0..<(b * classes) {
                    let source = logits.data + plane * rows.length * columns.length, target = out + plane * height * width
                    for y in 0..<rows.length {
                        let from = source + y * columns.length, to = target + (rows.start + y) * width + columns.start
                        for x in 0..<columns.length { to[x] += from[x] }
                    }
                }
                for y in rows.start..<(rows.start + rows.length) {
                    for x in columns.start..<(columns.start + columns.length) { count[y * width + x] += 1 }
                }
            }
        }
        let result = sum!
        for plane in 0..<(result.shape[0] * result.shape[1]) {
            let p = result.data + plane * height * width
            for i in 0..<(height * width) { p[i] /= count[i] }
        }
        return result
    }
}

/// NCHW `x` mirrored left to right (test-time flip; no gradient).
public func horizontallyFlipped(_ x: Tensor) -> Tensor {
    let width = x.shape[x.rank - 1], rows = x.count / width
    let out = Tensor(uninitializedShape: x.shape)
    for r in 0..<rows {
        let from = x.data + r * width, to = out.data + r * width
        for c in 0..<width { to[c] = from[width - 1 - c] }
    }
    return out
}
