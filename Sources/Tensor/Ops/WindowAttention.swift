/// Swin's window attention (W-MSA and, with a mask, SW-MSA) read straight from the fused qkv
/// projection of the windows' tokens, as `fusedSelfAttention` does, with two additive terms
/// before the softmax:
///
///     out[w, h] = softmax(scale·Q·Kᵀ + bias[h] + mask[w mod nW])·V
///
/// `qkv` is [B·nW, N, 3·heads·Dh] (windows of an image consecutive, as `windowPartition` orders
/// them), `bias` [heads, N, N] the relative position bias (trainable: its gradient is the sum of
/// the logits' gradients over windows), `mask` [nW, N, N] the shifted-window mask (0 within a
/// region, −100 across regions; a constant, no gradient). Output [B·nW, N, heads·Dh], the
/// layout `proj` reads. Probabilities are recomputed in the backward rather than kept
/// (`scratchBytes` bounds those materialised at once), as in `fusedSelfAttention`.
public func windowAttention(_ qkv: Tensor, heads: Int, scale: Float, bias: Tensor, mask: Tensor?, scratchBytes: Int = 16 << 20) -> Tensor {
    precondition(qkv.rank == 3 && heads > 0 && qkv.shape[2] % (3 * heads) == 0,
                 "windowAttention: qkv \(qkv.shape) is not [windows, N, 3·heads·Dh] for \(heads) heads")
    let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    precondition(bias.shape == [heads, n, n], "windowAttention: bias \(bias.shape) is not [\(heads), \(n), \(n)]")
    if let mask {
        precondition(mask.rank == 3 && mask.shape[1] == n && mask.shape[2] == n && mask.shape[0] > 0 && b % mask.shape[0] == 0,
                     "windowAttention: mask \(mask.shape) is not [nW, \(n), \(n)] with nW dividing the \(b) windows")
        precondition(!mask.requiresGrad, "windowAttention: the mask is a constant and takes no gradient")
    }
    let row = 3 * d
    let windowsPerImage = mask?.shape[0] ?? 1
    let out = Tensor(uninitializedShape: [b, n, d])
    let group = max(1, min(b, scratchBytes / (heads * n * n * MemoryLayout<Float>.stride)))
    let products = AttentionProducts(heads: heads, tokens: n, width: d, scale: scale)
    let keptBias = bias.detached(), keptMask = mask?.detached()
    func forEachGroup(_ body: (Int, Int) -> Void) {
        for first in stride(from: 0, to: b, by: group) { body(first, min(group, b - first)) }
    }
    /// P = softmax(scale·Q·Kᵀ + bias + mask) for windows first ..< first + g, into `p`.
    func probabilities(_ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?, first: Int, windows g: Int,
                       into p: UnsafeMutablePointer<Float>) {
        products.logits(qkv, qkv16, count: g, into: p)
        let biasValues = keptBias.data, maskValues = keptMask?.data
        Parallel.chunks(g * heads * n, grain: 64) { range in
            for r in range {
                let (pair, i) = r.quotientAndRemainder(dividingBy: n)
                let (window, h) = pair.quotientAndRemainder(dividingBy: heads)
                let logits = p + r * n, biasRow = biasValues + (h * n + i) * n
                for j in 0..<n { logits[j] += biasRow[j] }
                if let maskValues {
                    let maskRow = maskValues + (((first + window) % windowsPerImage) * n + i) * n
                    for j in 0..<n { logits[j] += maskRow[j] }
                }
                softmaxRowsSerial(logits, rows: 1, length: n)
            }
        }
    }
    let rounded = BLAS.roundedOperand(qkv.data, count: qkv.count)
    do {
        let probs = Tensor(uninitializedShape: [group, heads, n, n])
        forEachGroup { first, g in
            let base = qkv.data + first * n * row, base16 = rounded.map { UnsafePointer($0.pointer) + first * n * row }
            probabilities(base, base16, first: first, windows: g, into: probs.data)
            products.output(probs.data, base, base16, count: g, into: out.data + first * n * d)
        }
    }
    withExtendedLifetime(rounded) {}
    if Tensor.needsGraph([qkv, bias]) {
        let saved = SavedActivation(qkv, rounded: rounded)
        let needQKV = qkv.requiresGrad, needBias = bias.requiresGrad
        out.record("window_attention", [qkv, bias]) { g in
            let kept = saved.restored()
            defer { withExtendedLifetime(kept) {} }
            let dqkv = needQKV ? Tensor(uninitializedShape: kept.shape) : nil
            let dBias = needBias ? Tensor.zeros([heads, n, n]) : nil
            let p = Tensor(uninitializedShape: [group, heads, n, n]), dS = Tensor(uninitializedShape: [group, heads, n, n])
            let (pr, ds) = (p.data, dS.data)
            forEachGroup { first, windows in
                let base = kept.data + first * n * row, dOut = g.data + first * n * d
                let q16 = saved.roundedValues.map { $0 + first * n * row }
                let dOut16 = BLAS.roundedOperand(dOut, count: windows * n * d)
                defer { withExtendedLifetime(dOut16) {} }
                probabilities(base, q16, first: first, windows: windows, into: pr)
                products.logitGradients(pr, base, q16, dOut, dOut16?.pointer, count: windows, into: ds)
                if let dBias {
                    // The bias enters every window's logits: dBias[h] = Σ_w dS[w, h], windows in order.
                    let accumulated = dBias.data
                    Parallel.chunks(heads, grain: 1) { range in
                        for h in range {
                            let target = accumulated + h * n * n
                            for w in 0..<windows {
                                let source = ds + (w * heads + h) * n * n
                                for j in 0..<(n * n) { target[j] += source[j] }
                            }
                        }
                    }
                }
                guard let dqkv else { return }
                let grad = dqkv.data + first * n * row
                let dS16 = BLAS.roundedOperand(ds, count: windows * heads * n * n)
                defer { withExtendedLifetime(dS16) {} }
                products.inputGradients(ds, dS16?.pointer, pr, base, q16, dOut, dOut16?.pointer, count: windows, into: grad)
            }
            return [dqkv, dBias]
        }
    }
    return out
}
