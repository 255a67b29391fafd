/// 2-D transposed convolution over NCHW tensors, as `F.conv_transpose2d` / `nn.ConvTranspose2d`.
///
/// A transposed convolution is the adjoint of `conv2d`: its weight [in, out/groups, kh, kw] is
/// exactly a conv2d weight [O = in, C/groups = out/groups, kh, kw] mapping the (larger) output
/// back to the input. So the kernels of `GemmConv` are reused with roles swapped, each side a
/// GEMM plus im2col / col2im (ConvolutionKernels.swift):
/// * forward: the conv's input gradient (Wᵀ·x columns scattered by col2im),
/// * input gradient: the conv's forward of the output gradient,
/// * weight gradient: the conv's weight gradient with x as the "output gradient".

public func conv2dTransposed(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                             padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), groups: Int = 1) -> Tensor {
    precondition(x.rank == 4, "conv2dTransposed: input must be NCHW, got \(x.shape)")
    precondition(weight.rank == 4, "conv2dTransposed: weight must be [in, out/groups, kh, kw], got \(weight.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw) = (weight.shape[2], weight.shape[3])
    precondition(groups > 0 && weight.shape[0] == c && c % groups == 0,
                 "conv2dTransposed: input \(x.shape) with weight \(weight.shape) and groups \(groups) do not fit")
    // As PyTorch: output padding only picks among the sizes that the strided conv maps back to h.
    precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0 && outputPadding.0 < stride.0 && outputPadding.1 < stride.1,
                 "conv2dTransposed: output padding \(outputPadding) must be in 0..<stride \(stride)")
    let o = weight.shape[1] * groups
    let ho = (h - 1) * stride.0 - 2 * padding.0 + kh + outputPadding.0
    let wo = (w - 1) * stride.1 - 2 * padding.1 + kw + outputPadding.1
    if let bias { precondition(bias.shape == [o], "conv2dTransposed: bias \(bias.shape) != [\(o)]") }
    // The adjoint conv2d: from the output [n, o, ho, wo] to the input [n, c, h, w]. The output
    // padding rows lie past the last window that conv reads, so symmetric padding fits.
    let geo = ConvGeometry(input: [n, o, ho, wo], kernel: (kh, kw), stride: stride,
                           padding: .symmetric(padding.0, padding.1), op: "conv2dTransposed")
    precondition(geo.ho == h && geo.wo == w, "conv2dTransposed: geometry \(x.shape) → \([ho, wo]) does not invert")
    let adjoint = GemmConv(geo: geo, o: c, groups: groups)
    let out = Tensor(uninitializedShape: [n, o, ho, wo])
    adjoint.backward(x.data, x: nil, w: weight.data, gx: out.data, gw: nil)
    if let bias {
        for s in 0..<n { addBias(bias.data, to: out.data + s * o * ho * wo, channels: o, spatial: ho * wo, parallel: true) }
    }
    if Tensor.needsGraph([x, weight, bias]) {
        let keptX = weight.requiresGrad ? x.detached() : nil
        let keptW = x.requiresGrad ? weight.detached() : nil
        let needBias = bias?.requiresGrad == true
        out.record("conv2dTransposed", [x, weight, bias]) { g in
            let gx = keptW.map { kw -> Tensor in
                let t = Tensor(uninitializedShape: x.shape)
                adjoint.forward(g.data, kw.data, bias: nil, t.data)
                return t
            }
            let gw = keptX.map { kx -> Tensor in
                let t = Tensor(uninitializedShape: weight.shape)
                adjoint.backward(kx.data, x: g.data, w: nil, gx: nil, gw: t.data)
                return t
            }
            let gb = needBias ? g.reshaped([n, o, ho * wo]).sum(dims: [0, 2]) : nil
            return [gx, gw, gb]
        }
    }
    return out
}
