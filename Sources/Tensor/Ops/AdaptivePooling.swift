/// `F.adaptive_avg_pool2d` over NCHW tensors (PSPNet's and UPerNet's pyramid pooling).
///
/// Output cell i along an axis of length `input` averages input cells
/// ⌊i·input/output⌋ ..< ⌈(i+1)·input/output⌉, PyTorch's bins (which overlap when the sizes do
/// not divide). The bins of the two axes are independent, so the op is separable: two [out, in]
/// averaging matrices applied with `linear`, as `resize` does, and its gradient comes from theirs.
public func adaptiveAvgPool2d(_ x: Tensor, to size: (height: Int, width: Int)) -> Tensor {
    precondition(x.rank == 4, "adaptiveAvgPool2d: input must be NCHW, got \(x.shape)")
    precondition(size.height > 0 && size.width > 0, "adaptiveAvgPool2d: output size \(size) must be positive")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let alongWidth = linear(x, Tensor(shape: [size.width, w], adaptiveAverageMatrix(input: w, output: size.width)))
    let alongHeight = linear(alongWidth.transposed(), Tensor(shape: [size.height, h], adaptiveAverageMatrix(input: h, output: size.height)))
    return alongHeight.transposed().reshaped([n, c, size.height, size.width])
}

/// Row i: 1/count over PyTorch's adaptive bin i (`start_index`/`end_index` in its kernel).
func adaptiveAverageMatrix(input: Int, output: Int) -> [Float] {
    var m = [Float](repeating: 0, count: output * input)
    for i in 0..<output {
        let start = (i * input) / output
        let end = ((i + 1) * input + output - 1) / output
        for j in start..<end { m[i * input + j] = 1 / Float(end - start) }
    }
    return m
}
