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
    /// q, k, v of one (sample, head) pair inside `qkv`, and its output columns.
    func q(_ p: Int) -> Int { (p / heads) * n * row + (p % heads) * dh }
    func o(_ p: Int) -> Int { (p / heads) * n * d + (p % heads) * dh }
    /// P = softmax(scale·q·kᵀ) of pair `p` into `s` [n×n].
    func probabilities(_ base: UnsafePointer<Float>, into s: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transB: true, m: n, n: n, k: dh, alpha: scale, a: base, lda: row, b: base + d, ldb: row, c: s)
        softmaxRowsSerial(s, rows: n, length: n)
    }
    // The probabilities live in one n×n scratch per thread, never as a [B, heads, N, N] tensor:
    // the backward recomputes them (one small product per pair) instead of keeping them.
    BLAS.singleThreaded {
        Parallel.chunks(pairs, grain: 1) { range in
            let s = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
            defer { s.deallocate() }
            for p in range {
                let base = qkv.data + q(p)
                probabilities(base, into: s)
                BLAS.gemm(m: n, n: dh, k: n, a: s, lda: n, b: base + 2 * d, ldb: row, c: out.data + o(p), ldc: d)
            }
        }
    }
    if Tensor.needsGraph([qkv]) {
        let kept = qkv.detached()
        out.record("fused_self_attention", [qkv]) { g in
            let dqkv = Tensor(uninitializedShape: kept.shape)
            BLAS.singleThreaded {
                Parallel.chunks(pairs, grain: 1) { range in
                    let pr = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n * n), ds = pr + n * n
                    defer { pr.deallocate() }
                    for p in range {
                        let base = kept.data + q(p), grad = dqkv.data + q(p), go = g.data + o(p)
                        probabilities(base, into: pr)
                        // dP = dO·Vᵀ ; dS = P ⊙ (dP − rowsum(dP ⊙ P))
                        BLAS.gemm(transB: true, m: n, n: n, k: dh, a: go, lda: d, b: base + 2 * d, ldb: row, c: ds)
                        softmaxBackwardRowsSerial(pr, ds, ds, rows: n, length: n)
                        // dQ = scale·dS·K ; dK = scale·dSᵀ·Q ; dV = Pᵀ·dO
                        BLAS.gemm(m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, b: base + d, ldb: row, c: grad, ldc: row)
                        BLAS.gemm(transA: true, m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, b: base, ldb: row, c: grad + d, ldc: row)
                        BLAS.gemm(transA: true, m: n, n: dh, k: n, a: pr, lda: n, b: go, ldb: d, c: grad + 2 * d, ldc: row)
                    }
                }
            }
            return [dqkv]
        }
    }
    return out
}
