/// Multi-head self-attention read straight from a fused qkv projection and written straight
/// into the [B, N, heads·Dh] layout the output projection wants: no permute, slice or
/// transpose copies. q, k and v of head h are strided views of `qkv` ([B, N, 3·D], rows 3·D
/// apart), which `BLAS.gemm` reads through its leading dimensions. Same result and gradients as
/// splitting qkv and calling `attention` (the parity and gradient tests check both).
public func fusedSelfAttention(_ qkv: Tensor, heads: Int, scale: Float) -> Tensor {
    precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "fusedSelfAttention: qkv \(qkv.shape) is not [B, N, 3·heads·Dh] for \(heads) heads")
    let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    let dh = d / heads, pairs = b * heads, row = 3 * d
    let out = Tensor(uninitializedShape: [b, n, d])
    // Every (sample, head) product in one call: q, k, v of pair (i, h) start at i·n·row + h·dh
    // (+ d for k, + 2d for v), rows `row` apart; probabilities are [B, heads, N, N].
    let qkvStrides = (n * row, dh), probStrides = (heads * n * n, n * n), outStrides = (n * d, dh)
    /// P = softmax(scale·Q·Kᵀ) for every pair, into `p` [B, heads, N, N].
    func probabilities(_ qkv: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        BLAS.batchedGemm(batch: (b, heads), transB: true, m: n, n: n, k: dh, alpha: scale, a: qkv, lda: row, aStrides: qkvStrides,
                         b: qkv + d, ldb: row, bStrides: qkvStrides, c: p, ldc: n, cStrides: probStrides)
        Parallel.chunks(pairs * n, grain: 64) { range in softmaxRowsSerial(p + range.lowerBound * n, rows: range.count, length: n) }
    }
    // The probabilities are a temporary of the forward; the backward recomputes them (one
    // batched product) rather than keeping [B, heads, N, N] per block alive until then.
    let probs = Tensor(uninitializedShape: [b, heads, n, n])
    probabilities(qkv.data, into: probs.data)
    BLAS.batchedGemm(batch: (b, heads), m: n, n: dh, k: n, a: probs.data, lda: n, aStrides: probStrides,
                     b: qkv.data + 2 * d, ldb: row, bStrides: qkvStrides, c: out.data, ldc: d, cStrides: outStrides)
    if Tensor.needsGraph([qkv]) {
        let kept = qkv.detached()
        out.record("fused_self_attention", [qkv]) { g in
            let dqkv = Tensor(uninitializedShape: kept.shape)
            let p = Tensor(uninitializedShape: [b, heads, n, n]), dS = Tensor(uninitializedShape: [b, heads, n, n])
            let (base, grad, pr, ds) = (kept.data, dqkv.data, p.data, dS.data)
            probabilities(base, into: pr)
            // dP = dO·Vᵀ ; dS = P ⊙ (dP − rowsum(dP ⊙ P))
            BLAS.batchedGemm(batch: (b, heads), transB: true, m: n, n: n, k: dh, a: g.data, lda: d, aStrides: outStrides,
                             b: base + 2 * d, ldb: row, bStrides: qkvStrides, c: ds, ldc: n, cStrides: probStrides)
            Parallel.chunks(pairs * n, grain: 64) { range in
                let offset = range.lowerBound * n
                softmaxBackwardRowsSerial(pr + offset, ds + offset, ds + offset, rows: range.count, length: n)
            }
            // dQ = scale·dS·K ; dK = scale·dSᵀ·Q ; dV = Pᵀ·dO
            BLAS.batchedGemm(batch: (b, heads), m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, aStrides: probStrides,
                             b: base + d, ldb: row, bStrides: qkvStrides, c: grad, ldc: row, cStrides: qkvStrides)
            BLAS.batchedGemm(batch: (b, heads), transA: true, m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, aStrides: probStrides,
                             b: base, ldb: row, bStrides: qkvStrides, c: grad + d, ldc: row, cStrides: qkvStrides)
            BLAS.batchedGemm(batch: (b, heads), transA: true, m: n, n: dh, k: n, a: pr, lda: n, aStrides: probStrides,
                             b: g.data, ldb: d, bStrides: outStrides, c: grad + 2 * d, ldc: row, cStrides: qkvStrides)
            return [dqkv]
        }
    }
    return out
}
