/// Multi-head self-attention read straight from a fused qkv projection and written straight
/// into the [B, N, heads·Dh] layout the output projection wants: no permute, slice or
/// transpose copies. q, k and v of head h are strided views of `qkv` ([B, N, 3·D], rows 3·D
/// apart), which `BLAS.gemm` reads through its leading dimensions. Same result and gradients as
/// splitting qkv and calling `attention` (the parity and gradient tests check both).
/// `scratchBytes` bounds the attention probabilities materialised at once (per buffer).
public func fusedSelfAttention(_ qkv: Tensor, heads: Int, scale: Float, scratchBytes: Int = 16 << 20) -> Tensor {
    precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "fusedSelfAttention: qkv \(qkv.shape) is not [B, N, 3·heads·Dh] for \(heads) heads")
    let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    let row = 3 * d
    let out = Tensor(uninitializedShape: [b, n, d])
    // Samples go through in groups whose probabilities [group, heads, N, N] stay near
    // `scratchBytes`: one batched product per step and group (every (sample, head) pair
    // of the group in one call) without a whole-batch temporary (60 MB for ViT-B/16 at batch
    // 32, two of them in the backward). q, k, v of pair (i, h) start at i·n·row + h·dh (+ d for
    // k, + 2d for v), rows `row` apart.
    let group = max(1, min(b, scratchBytes / (heads * n * n * MemoryLayout<Float>.stride)))
    let products = AttentionProducts(heads: heads, tokens: n, width: d, scale: scale)
    /// Runs `body(first sample, samples)` for every group.
    func forEachGroup(_ body: (Int, Int) -> Void) {
        for first in stride(from: 0, to: b, by: group) { body(first, min(group, b - first)) }
    }
    /// P = softmax(scale·Q·Kᵀ) for the `g` samples whose qkv starts at `qkv` (`qkv16`: the same
    /// rounded to bfloat16, in bf16 mode), into `p`.
    func probabilities(_ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?, samples g: Int, into p: UnsafeMutablePointer<Float>) {
        products.logits(qkv, qkv16, count: g, into: p)
        Parallel.chunks(g * heads * n, grain: 64) { range in softmaxRowsSerial(p + range.lowerBound * n, rows: range.count, length: n) }
    }
    // The probabilities are a temporary of the forward; the backward recomputes them (one
    // batched product per group) rather than keeping [B, heads, N, N] per block alive until then.
    // In bf16 mode q, k and v are rounded once (not once per product), and the backward keeps
    // that rounding as its saved activation.
    let rounded = BLAS.roundedOperand(qkv.data, count: qkv.count)
    do {
        let probs = Tensor(uninitializedShape: [group, heads, n, n])
        forEachGroup { first, g in
            let base = qkv.data + first * n * row, base16 = rounded.map { UnsafePointer($0.pointer) + first * n * row }
            probabilities(base, base16, samples: g, into: probs.data)
            products.output(probs.data, base, base16, count: g, into: out.data + first * n * d)
        }
    }
    withExtendedLifetime(rounded) {}
    if Tensor.needsGraph([qkv]) {
        let saved = SavedActivation(qkv, rounded: rounded)
        out.record("fused_self_attention", [qkv]) { g in
            let kept = saved.restored()
            defer { withExtendedLifetime(kept) {} }
            let dqkv = Tensor(uninitializedShape: kept.shape)
            let p = Tensor(uninitializedShape: [group, heads, n, n]), dS = Tensor(uninitializedShape: [group, heads, n, n])
            let (pr, ds) = (p.data, dS.data)
            forEachGroup { first, samples in
                let base = kept.data + first * n * row, grad = dqkv.data + first * n * row, dOut = g.data + first * n * d
                let q16 = saved.roundedValues.map { $0 + first * n * row }
                let dOut16 = BLAS.roundedOperand(dOut, count: samples * n * d)
                defer { withExtendedLifetime(dOut16) {} }
                probabilities(base, q16, samples: samples, into: pr)
                products.logitGradients(pr, base, q16, dOut, dOut16?.pointer, count: samples, into: ds)
                let dS16 = BLAS.roundedOperand(ds, count: samples * heads * n * n)
                defer { withExtendedLifetime(dS16) {} }
                products.inputGradients(ds, dS16?.pointer, pr, base, q16, dOut, dOut16?.pointer, count: samples, into: grad)
            }
            return [dqkv]
        }
    }
    return out
}
