/// 2-D convolution over NCHW tensors, as `F.conv2d` (cross-correlation), with groups and
/// TensorFlow-style "SAME" padding. General case: im2col + `BLAS.gemm` per sample and group
/// (1×1 stride-1 convolutions multiply the input directly); depthwise (groups = channels =
/// outputs): a direct, vectorised kernel. The kernels are in ConvolutionKernels.swift.

/// Zero padding around the spatial axes.
public enum Padding: Equatable, Sendable {
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
    /// TensorFlow "SAME": output = ⌈input / stride⌉, the extra pixel (if odd) after.
    case same

    public static func symmetric(_ h: Int, _ w: Int) -> Padding { .explicit(top: h, bottom: h, left: w, right: w) }
    public static let none = Padding.symmetric(0, 0)

    func resolved(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int)) -> (top: Int, bottom: Int, left: Int, right: Int) {
        switch self {
        case let .explicit(t, b, l, r): return (t, b, l, r)
        case .same:
            func split(_ size: Int, _ k: Int, _ s: Int) -> (Int, Int) {
                let total = Swift.max(((size + s - 1) / s - 1) * s + k - size, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = split(height, kernel.0, stride.0), (l, r) = split(width, kernel.1, stride.1)
            return (t, b, l, r)
        }
    }
}

/// The geometry of one convolution, shared by forward, backward and pooling.
struct ConvGeometry {
    let n, c, h, w, kh, kw, sh, sw, top, bottom, left, right, ho, wo: Int

    init(input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: Padding, op: String) {
        precondition(input.count == 4, "\(op): input must be NCHW, got \(input)")
        (n, c, h, w) = (input[0], input[1], input[2], input[3])
        (kh, kw) = kernel
        (sh, sw) = stride
        precondition(sh > 0 && sw > 0, "\(op): stride \(stride) must be positive")
        let pad = padding.resolved(height: h, width: w, kernel: kernel, stride: stride)
        (top, bottom, left, right) = (pad.top, pad.bottom, pad.left, pad.right)
        ho = (h + pad.top + pad.bottom - kh) / sh + 1
        wo = (w + pad.left + pad.right - kw) / sw + 1
        precondition(ho > 0 && wo > 0, "\(op): kernel \(kernel) larger than padded input \(input)")
    }

    /// Unfolds channels `c0..<c0+cg` of sample `sample` into rows (channel, ky, kx) × (oy, ox).
    func im2col(_ x: UnsafePointer<Float>, sample: Int, c0: Int, cg: Int, into col: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let cols = ho * wo
        let body = { (rows: Range<Int>) in
            for row in rows {
                let ch = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
                let plane = x + ((sample * c + c0 + ch) * h) * w
                let dst = col + row * cols
                // Output columns whose input column is inside the image: ox in lo..<hi.
                let a = left - kx, b = w - 1 + left - kx
                let lo = Swift.min(a <= 0 ? 0 : (a + sw - 1) / sw, wo)
                let hi = Swift.max(b < 0 ? 0 : Swift.min(wo, b / sw + 1), lo)
                for oy in 0..<ho {
                    let iy = oy * sh - top + ky
                    let line = dst + oy * wo
                    if iy < 0 || iy >= h || lo >= hi { line.initialize(repeating: 0, count: wo); continue }
                    let src = plane + iy * w + kx - left
                    if lo > 0 { line.initialize(repeating: 0, count: lo) }
                    if sw == 1 {
                        (line + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        for ox in lo..<hi { line[ox] = src[ox * sw] }
                    }
                    if hi < wo { (line + hi).initialize(repeating: 0, count: wo - hi) }
                }
            }
        }
        if parallel { Parallel.chunks(cg * kh * kw, grain: 8, body) } else { body(0..<(cg * kh * kw)) }
    }

    /// Adds the columns back into the image gradient (the adjoint of `im2col`).
    func col2im(_ col: UnsafePointer<Float>, sample: Int, c0: Int, cg: Int, into dx: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let cols = ho * wo
        let body = { (channels: Range<Int>) in
            for ch in channels {
                let plane = dx + ((sample * c + c0 + ch) * h) * w
                for ky in 0..<kh { for kx in 0..<kw {
                    let src = col + ((ch * kh + ky) * kw + kx) * cols
                    let a = left - kx, b = w - 1 + left - kx
                    let lo = Swift.min(a <= 0 ? 0 : (a + sw - 1) / sw, wo)
                    let hi = Swift.max(b < 0 ? 0 : Swift.min(wo, b / sw + 1), lo)
                    for oy in 0..<ho {
                        let iy = oy * sh - top + ky
                        if iy < 0 || iy >= h { continue }
                        let line = src + oy * wo, dst = plane + iy * w + kx - left
                        if sw == 1 {
                            for ox in lo..<hi { dst[ox] += line[ox] }
                        } else {
                            for ox in lo..<hi { dst[ox * sw] += line[ox] }
                        }
                    }
                } }
            }
        }
        if parallel { Parallel.chunks(cg, grain: 1, body) } else { body(0..<cg) }
    }
}

public func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: Padding = .none, groups: Int = 1) -> Tensor {
    precondition(weight.rank == 4, "conv2d: weight must be [O, C/groups, kh, kw], got \(weight.shape)")
    let o = weight.shape[0], cg = weight.shape[1]
    let geo = ConvGeometry(input: x.shape, kernel: (weight.shape[2], weight.shape[3]), stride: stride, padding: padding, op: "conv2d")
    precondition(groups > 0 && geo.c == cg * groups && o % groups == 0,
                 "conv2d: input \(x.shape) with weight \(weight.shape) and groups \(groups) do not fit")
    if let bias { precondition(bias.shape == [o], "conv2d: bias \(bias.shape) != [\(o)]") }
    let depthwise = groups == geo.c && o == geo.c
    let gemmConv = GemmConv(geo: geo, o: o, groups: groups)
    let out = Tensor(uninitializedShape: [geo.n, o, geo.ho, geo.wo])
    if depthwise {
        depthwiseForward(geo, x.data, weight.data, bias: bias.map { UnsafePointer($0.data) }, out.data)
    } else {
        gemmConv.forward(x.data, weight.data, bias: bias.map { UnsafePointer($0.data) }, out.data)
    }
    if Tensor.needsGraph([x, weight, bias]) {
        let keptX = weight.requiresGrad ? x.detached() : nil
        let keptW = x.requiresGrad ? weight.detached() : nil
        let needBias = bias?.requiresGrad == true
        out.record("conv2d", [x, weight, bias]) { g in
            let gx = keptW.map { _ in Tensor(uninitializedShape: x.shape) }
            let gw = keptX.map { _ in Tensor.zeros(weight.shape) }
            if depthwise {
                depthwiseBackward(geo, g.data, x: keptX?.data, w: keptW?.data, gx: gx?.data, gw: gw?.data)
            } else {
                gemmConv.backward(g.data, x: keptX?.data, w: keptW?.data, gx: gx?.data, gw: gw?.data)
            }
            let gb = needBias ? g.reshaped([geo.n, o, geo.ho * geo.wo]).sum(dims: [0, 2]) : nil
            return [gx, gw, gb]
        }
    }
    return out
}
