import Foundation

/// Separable 2-D resampling of NCHW tensors, as `F.interpolate(mode:, align_corners=False,
/// antialias:)`. Each axis is a [out, in] weight matrix, so the op is two `linear`s and its
/// gradient comes from theirs.
public enum ResizeFilter: String, Sendable, CaseIterable {
    case bilinear, bicubic
}

public enum ResizeWeights {
    /// Row i holds the weights of input samples for output sample i.
    ///
    /// Without antialias: PyTorch's kernels (bicubic A = −0.75, edge samples clamped).
    /// With antialias: PyTorch's `_aa` kernels, which follow PIL (bicubic A = −0.5, support
    /// widened by the scale when downsampling, weights normalised).
    public static func matrix(input: Int, output: Int, filter: ResizeFilter, antialias: Bool) -> [Float] {
        precondition(input > 0 && output > 0, "resize: sizes must be positive (input \(input), output \(output))")
        var m = [Float](repeating: 0, count: output * input)
        let scale = Double(input) / Double(output)
        if antialias {
            let base: Double = filter == .bilinear ? 1 : 2
            let support = scale >= 1 ? base * scale : base
            let invScale = scale >= 1 ? 1 / scale : 1
            for i in 0..<output {
                let centre = scale * (Double(i) + 0.5)
                let lo = Swift.max(Int(centre - support + 0.5), 0)
                let hi = Swift.min(Int(centre + support + 0.5), input)
                var weights = [Double]()
                for j in lo..<hi { weights.append(kernel(filter, (Double(j) - centre + 0.5) * invScale, a: -0.5)) }
                let total = weights.reduce(0, +)
                for (t, j) in (lo..<hi).enumerated() { m[i * input + j] = Float(total != 0 ? weights[t] / total : 0) }
            }
        } else {
            for i in 0..<output {
                var src = scale * (Double(i) + 0.5) - 0.5
                switch filter {
                case .bilinear:
                    if src < 0 { src = 0 }
                    let i0 = Swift.min(Int(src), input - 1), i1 = Swift.min(i0 + 1, input - 1)
                    let l = src - Double(i0)
                    m[i * input + i0] += Float(1 - l)
                    m[i * input + i1] += Float(l)
                case .bicubic:
                    let i0 = Int(floor(src)), t = src - floor(src)
                    for tap in -1...2 {
                        let j = Swift.min(Swift.max(i0 + tap, 0), input - 1)
                        m[i * input + j] += Float(kernel(.bicubic, t - Double(tap), a: -0.75))
                    }
                }
            }
        }
        return m
    }

    private static func kernel(_ filter: ResizeFilter, _ x: Double, a: Double) -> Double {
        let x = Swift.abs(x)
        switch filter {
        case .bilinear: return x < 1 ? 1 - x : 0
        case .bicubic:
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Resizes the two last axes of `x` ([…, H, W]) to `size`.
public func resize(_ x: Tensor, to size: (height: Int, width: Int), filter: ResizeFilter, antialias: Bool = false) -> Tensor {
    precondition(x.rank >= 2, "resize: needs […, H, W], got \(x.shape)")
    let (h, w) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    let lead = Array(x.shape.dropLast(2))
    let ww = Tensor(shape: [size.width, w], ResizeWeights.matrix(input: w, output: size.width, filter: filter, antialias: antialias))
    let wh = Tensor(shape: [size.height, h], ResizeWeights.matrix(input: h, output: size.height, filter: filter, antialias: antialias))
    let alongWidth = linear(x, ww)                                   // […, H, W']
    let alongHeight = linear(alongWidth.transposed(), wh)            // […, W', H']
    return alongHeight.transposed().reshaped(lead + [size.height, size.width])
}

/// `resize` computed without the matrix-product kernels: scalar, in Double, in a fixed order, so
/// the result is bit-identical on every CPU and thread count. For weights derived when a
/// checkpoint loads (a position table resized to another grid): their bytes identify the backbone
/// an adapter was trained on, and a GEMM's blocking and fused multiply-adds differ between an
/// AVX-512 and an AVX2 machine in the last bit. No gradient (load-time only).
public func resizeExactly(_ x: Tensor, to size: (height: Int, width: Int), filter: ResizeFilter, antialias: Bool = false) -> Tensor {
    precondition(x.rank >= 2, "resizeExactly: needs […, H, W], got \(x.shape)")
    let (h, w) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    let planes = x.count / (h * w)
    let ww = ResizeWeights.matrix(input: w, output: size.width, filter: filter, antialias: antialias).map(Double.init)
    let wh = ResizeWeights.matrix(input: h, output: size.height, filter: filter, antialias: antialias).map(Double.init)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast(2)) + [size.height, size.width])
    var alongWidth = [Double](repeating: 0, count: h * size.width)
    for p in 0..<planes {
        let source = x.data + p * h * w
        for row in 0..<h {
            for j in 0..<size.width {
                var sum = 0.0
                for k in 0..<w { sum += ww[j * w + k] * Double(source[row * w + k]) }
                alongWidth[row * size.width + j] = sum
            }
        }
        let target = out.data + p * size.height * size.width
        for i in 0..<size.height {
            for j in 0..<size.width {
                var sum = 0.0
                for k in 0..<h { sum += wh[i * h + k] * alongWidth[k * size.width + j] }
                target[i * size.width + j] = Float(sum)
            }
        }
    }
    return out
}
