/// Multi-head self-attention read straight from a fused qkv projection and written straight
/// into the [B, N, heads·Dh] layout the output projection wants: no permute, slice or
/// transpose copies. q, k and v of head h are strided views of `qkv` ([B, N, 3·D], rows 3·D
/// apart), which `BLAS.gemm` reads through its leading dimensions. Same result and gradients as
/// splitting qkv and calling `attention` (the parity and gradient tests check both).
public func fusedSelfAttention(_ qkv: Tensor, heads: Int, scale: Float) -> Tensor {
    precondition(qkv.rank == 3 && qkv.shape[2] % (3 * heads) == 0, "fusedSelfAttention: qkv \(qkv.shape) is not [B, N, 3·heads·Dh] for \(heads) heads")
    let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
    let dh = d / heads, pairs = b * heads, row = 3 * d
    let probs = Tensor(uninitializedShape: [b, heads, n, n])
    let out = Tensor(uninitializedShape: [b, n, d])
    /// q, k, v of one (sample, head) pair inside `qkv`, and its output columns.
    func q(_ p: Int) -> Int { (p / heads) * n * row + (p % heads) * dh }
    func o(_ p: Int) -> Int { (p / heads) * n * d + (p % heads) * dh }
    BLAS.singleThreaded {
        Parallel.chunks(pairs, grain: 1) { range in
            for p in range {
                let base = qkv.data + q(p), s = probs.data + p * n * n
                BLAS.gemm(transB: true, m: n, n: n, k: dh, alpha: scale, a: base, lda: row, b: base + d, ldb: row, c: s)
                softmaxRowsSerial(s, rows: n, length: n)
                BLAS.gemm(m: n, n: dh, k: n, a: s, lda: n, b: base + 2 * d, ldb: row, c: out.data + o(p), ldc: d)
            }
        }
    }
    if Tensor.needsGraph([qkv]) {
        let kept = qkv.detached()
        out.record("fused_self_attention", [qkv]) { g in
            let dqkv = Tensor(uninitializedShape: kept.shape)
            let dS = Tensor(uninitializedShape: [b, heads, n, n])
            BLAS.singleThreaded {
                Parallel.chunks(pairs, grain: 1) { range in
                    for p in range {
                        let base = kept.data + q(p), grad = dqkv.data + q(p)
                        let pr = probs.data + p * n * n, ds = dS.data + p * n * n, go = g.data + o(p)
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
