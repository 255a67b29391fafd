/// 2-D convolution over NCHW tensors, as `F.conv2d` (cross-correlation), with groups and
/// TensorFlow-style "SAME" padding. General case: im2col + `BLAS.gemm` per sample and group;
/// depthwise (groups = channels = outputs): a direct kernel.

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
    func im2col(_ x: UnsafePointer<Float>, sample: Int, c0: Int, cg: Int, into col: UnsafeMutablePointer<Float>) {
        let cols = ho * wo
        Parallel.chunks(cg * kh * kw, grain: 8) { rows in
            for row in rows {
                let ch = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
                let plane = x + ((sample * c + c0 + ch) * h) * w
                let dst = col + row * cols
                for oy in 0..<ho {
                    let iy = oy * sh - top + ky
                    let line = dst + oy * wo
                    if iy < 0 || iy >= h { line.initialize(repeating: 0, count: wo); continue }
                    for ox in 0..<wo {
                        let ix = ox * sw - left + kx
                        line[ox] = ix >= 0 && ix < w ? plane[iy * w + ix] : 0
                    }
                }
            }
        }
    }

    /// Adds the columns back into the image gradient (the adjoint of `im2col`).
    func col2im(_ col: UnsafePointer<Float>, sample: Int, c0: Int, cg: Int, into dx: UnsafeMutablePointer<Float>) {
        let cols = ho * wo
        Parallel.chunks(cg, grain: 1) { channels in
            for ch in channels {
                let plane = dx + ((sample * c + c0 + ch) * h) * w
                for ky in 0..<kh { for kx in 0..<kw {
                    let src = col + ((ch * kh + ky) * kw + kx) * cols
                    for oy in 0..<ho {
                        let iy = oy * sh - top + ky
                        if iy < 0 || iy >= h { continue }
                        for ox in 0..<wo {
                            let ix = ox * sw - left + kx
                            if ix >= 0 && ix < w { plane[iy * w + ix] += src[oy * wo + ox] }
                        }
                    }
                } }
            }
        }
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
    let og = o / groups, spatial = geo.ho * geo.wo, patch = cg * geo.kh * geo.kw
    let depthwise = groups == geo.c && o == geo.c
    let out = Tensor(uninitializedShape: [geo.n, o, geo.ho, geo.wo])
    if depthwise {
        depthwiseForward(geo, x.data, weight.data, out.data)
    } else {
        let col = Tensor(uninitializedShape: [patch, spatial])
        for s in 0..<geo.n {
            for gi in 0..<groups {
                geo.im2col(x.data, sample: s, c0: gi * cg, cg: cg, into: col.data)
                BLAS.gemm(m: og, n: spatial, k: patch, a: weight.data + gi * og * patch, b: col.data,
                          c: out.data + (s * o + gi * og) * spatial)
            }
        }
    }
    if let bias {
        for plane in 0..<(geo.n * o) {
            let b = bias.data[plane % o], p = out.data + plane * spatial
            for i in 0..<spatial { p[i] += b }
        }
    }
    if Tensor.needsGraph([x, weight, bias]) {
        let keptX = weight.requiresGrad ? x.detached() : nil
        let keptW = x.requiresGrad ? weight.detached() : nil
        let needBias = bias?.requiresGrad == true
        out.record("conv2d", [x, weight, bias]) { g in
            let gx = keptW.map { _ in Tensor.zeros(x.shape) }
            let gw = keptX.map { _ in Tensor.zeros(weight.shape) }
            if depthwise {
                depthwiseBackward(geo, g.data, x: keptX?.data, w: keptW?.data, gx: gx?.data, gw: gw?.data)
            } else {
                let col = Tensor(uninitializedShape: [patch, spatial])
                for s in 0..<geo.n {
                    for gi in 0..<groups {
                        let gs = g.data + (s * o + gi * og) * spatial
                        if let keptX, let gw {
                            geo.im2col(keptX.data, sample: s, c0: gi * cg, cg: cg, into: col.data)
                            BLAS.gemm(transB: true, m: og, n: patch, k: spatial, a: gs, b: col.data, beta: 1, c: gw.data + gi * og * patch)
                        }
                        if let keptW, let gx {
                            BLAS.gemm(transA: true, m: patch, n: spatial, k: og, a: keptW.data + gi * og * patch, b: gs, c: col.data)
                            geo.col2im(col.data, sample: s, c0: gi * cg, cg: cg, into: gx.data)
                        }
                    }
                }
            }
            let gb = needBias ? g.reshaped([geo.n, o, spatial]).sum(dims: [0, 2]) : nil
            return [gx, gw, gb]
        }
    }
    return out
}

private func depthwiseForward(_ geo: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    Parallel.chunks(geo.n * geo.c, grain: 1) { planes in
        for plane in planes {
            let ch = plane % geo.c
            let src = x + plane * geo.h * geo.w, dst = y + plane * geo.ho * geo.wo, k = w + ch * geo.kh * geo.kw
            for oy in 0..<geo.ho { for ox in 0..<geo.wo {
                var acc: Float = 0
                for ky in 0..<geo.kh {
                    let iy = oy * geo.sh - geo.top + ky
                    if iy < 0 || iy >= geo.h { continue }
                    for kx in 0..<geo.kw {
                        let ix = ox * geo.sw - geo.left + kx
                        if ix >= 0 && ix < geo.w { acc += src[iy * geo.w + ix] * k[ky * geo.kw + kx] }
                    }
                }
                dst[oy * geo.wo + ox] = acc
            } }
        }
    }
}

private func depthwiseBackward(_ geo: ConvGeometry, _ g: UnsafePointer<Float>, x: UnsafePointer<Float>?, w: UnsafePointer<Float>?,
                               gx: UnsafeMutablePointer<Float>?, gw: UnsafeMutablePointer<Float>?) {
    // Channels are independent: parallel over channels, samples in order (deterministic sums).
    Parallel.chunks(geo.c, grain: 1) { channels in
        for ch in channels { for s in 0..<geo.n {
            let plane = s * geo.c + ch
            let gp = g + plane * geo.ho * geo.wo, kOff = ch * geo.kh * geo.kw
            for oy in 0..<geo.ho { for ox in 0..<geo.wo {
                let gv = gp[oy * geo.wo + ox]
                for ky in 0..<geo.kh {
                    let iy = oy * geo.sh - geo.top + ky
                    if iy < 0 || iy >= geo.h { continue }
                    for kx in 0..<geo.kw {
                        let ix = ox * geo.sw - geo.left + kx
                        guard ix >= 0 && ix < geo.w else { continue }
                        let idx = plane * geo.h * geo.w + iy * geo.w + ix
                        if let gx, let w { gx[idx] += gv * w[kOff + ky * geo.kw + kx] }
                        if let gw, let x { gw[kOff + ky * geo.kw + kx] += gv * x[idx] }
                    }
                }
            } }
        } }
    }
}
