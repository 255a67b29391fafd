/// Max pooling over NCHW tensors.

/// `F.max_pool2d` without padding or dilation (floor mode: a partial window at the right or
/// bottom edge is dropped, as PyTorch does). The gradient goes to each window's maximum; on a
/// tie, to the first in row-major order, which is the cell PyTorch's CPU kernel picks.
public func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil) -> Tensor {
    let geo = ConvGeometry(input: x.shape, kernel: kernel, stride: stride ?? kernel, padding: .none, op: "maxPool2d")
    let (inPlane, outPlane) = (geo.h * geo.w, geo.ho * geo.wo)
    let out = Tensor(uninitializedShape: [geo.n, geo.c, geo.ho, geo.wo])
    // The input cell (within its plane) that won each output cell: what the backward routes to.
    var winners = [Int32](repeating: 0, count: geo.n * geo.c * outPlane)
    let (src, dst) = (x.data, out.data)
    winners.withUnsafeMutableBufferPointer { winner in
        let winner = winner.baseAddress!
        Parallel.chunks(geo.n * geo.c, grain: Swift.max(1, 4096 / Swift.max(1, outPlane * geo.kh * geo.kw))) { planes in
            for plane in planes {
                let input = src + plane * inPlane
                for oy in 0..<geo.ho { for ox in 0..<geo.wo {
                    var best = oy * geo.sh * geo.w + ox * geo.sw
                    for ky in 0..<geo.kh {
                        let row = (oy * geo.sh + ky) * geo.w + ox * geo.sw
                        // PyTorch's rule: strictly greater, or NaN (which then stays).
                        for kx in 0..<geo.kw where input[row + kx] > input[best] || input[row + kx].isNaN { best = row + kx }
                    }
                    dst[plane * outPlane + oy * geo.wo + ox] = input[best]
                    winner[plane * outPlane + oy * geo.wo + ox] = Int32(best)
                } }
            }
        }
    }
    if Tensor.needsGraph([x]) {
        out.record("max_pool2d", [x]) { g in
            let dx = Tensor.zeros(x.shape)
            for plane in 0..<(geo.n * geo.c) {
                for o in 0..<outPlane {
                    dx.data[plane * inPlane + Int(winners[plane * outPlane + o])] += g.data[plane * outPlane + o]
                }
            }
            return [dx]
        }
    }
    return out
}
