/// Average pooling over NCHW tensors.

/// `F.avg_pool2d`: the mean over each window; with `countIncludePad` false, padded positions
/// are left out of the divisor.
public func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .none,
                      countIncludePad: Bool = true) -> Tensor {
    let geo = ConvGeometry(input: x.shape, kernel: kernel, stride: stride ?? kernel, padding: padding, op: "avgPool2d")
    // The divisor of each output position.
    var divisor = [Float](repeating: 0, count: geo.ho * geo.wo)
    for oy in 0..<geo.ho { for ox in 0..<geo.wo {
        if countIncludePad {
            // PyTorch counts padded cells but not cells past the padding.
            let y0 = oy * geo.sh - geo.top, x0 = ox * geo.sw - geo.left
            let y1 = Swift.min(y0 + geo.kh, geo.h + geo.bottom), x1 = Swift.min(x0 + geo.kw, geo.w + geo.right)
            divisor[oy * geo.wo + ox] = Float((y1 - y0) * (x1 - x0))
        } else {
            let ys = (0..<geo.kh).filter { let iy = oy * geo.sh - geo.top + $0; return iy >= 0 && iy < geo.h }.count
            let xs = (0..<geo.kw).filter { let ix = ox * geo.sw - geo.left + $0; return ix >= 0 && ix < geo.w }.count
            divisor[oy * geo.wo + ox] = Float(ys * xs)
        }
    } }
    let out = Tensor.zeros([geo.n, geo.c, geo.ho, geo.wo])
    forEachWindow(geo) { plane, outIndex, inIndex in
        out.data[plane * geo.ho * geo.wo + outIndex] += x.data[plane * geo.h * geo.w + inIndex] / divisor[outIndex]
    }
    if Tensor.needsGraph([x]) {
        out.record("avg_pool2d", [x]) { g in
            let dx = Tensor.zeros(x.shape)
            forEachWindow(geo) { plane, outIndex, inIndex in
                dx.data[plane * geo.h * geo.w + inIndex] += g.data[plane * geo.ho * geo.wo + outIndex] / divisor[outIndex]
            }
            return [dx]
        }
    }
    return out
}

/// Calls `body(plane, outputIndex, inputIndex)` for every in-bounds cell of every window.
private func forEachWindow(_ geo: ConvGeometry, _ body: (Int, Int, Int) -> Void) {
    for plane in 0..<(geo.n * geo.c) {
        for oy in 0..<geo.ho { for ox in 0..<geo.wo {
            for ky in 0..<geo.kh {
                let iy = oy * geo.sh - geo.top + ky
                if iy < 0 || iy >= geo.h { continue }
                for kx in 0..<geo.kw {
                    let ix = ox * geo.sw - geo.left + kx
                    if ix >= 0 && ix < geo.w { body(plane, oy * geo.wo + ox, iy * geo.w + ix) }
                }
            }
        } }
    }
}

/// Mean over the spatial axes: [N, C, H, W] → [N, C].
public func globalAvgPool(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "globalAvgPool: input must be NCHW, got \(x.shape)")
    return x.mean(dims: [2, 3])
}
