/// The batched products that attention read straight from a fused qkv projection runs, shared by
/// `fusedSelfAttention` (ViT) and `windowAttention` (Swin): the two differ only in what is added
/// to the logits before the softmax. Rows of qkv are `row` = 3·d floats apart; q, k, v of
/// (sequence i, head h) start at i·n·row + h·dh (+ d for k, + 2d for v); probabilities are
/// [sequences, heads, n, n]; the output and its gradient are [sequences, n, d]. Each call covers
/// `count` consecutive sequences starting at the given pointers; `…16` are the bfloat16 roundings
/// of the same operands (bf16 mode), or nil.
struct AttentionProducts {
    let heads, n, dh, d, row: Int
    let scale: Float

    init(heads: Int, tokens n: Int, width d: Int, scale: Float) {
        (self.heads, self.n, self.d, self.scale) = (heads, n, d, scale)
        (dh, row) = (d / heads, 3 * d)
    }

    var qkvStrides: (Int, Int) { (n * row, dh) }
    var probStrides: (Int, Int) { (heads * n * n, n * n) }
    var outStrides: (Int, Int) { (n * d, dh) }

    /// p = scale·Q·Kᵀ (the logits, before anything is added and the softmax).
    func logits(_ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?, count: Int, into p: UnsafeMutablePointer<Float>) {
        BLAS.batchedGemm(batch: (count, heads), transB: true, m: n, n: n, k: dh, alpha: scale, a: qkv, lda: row, aStrides: qkvStrides,
                         b: qkv + d, ldb: row, bStrides: qkvStrides, c: p, ldc: n, cStrides: probStrides,
                         roundedA: qkv16, roundedB: qkv16.map { $0 + d })
    }

    /// out = P·V.
    func output(_ p: UnsafePointer<Float>, _ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?, count: Int,
                into out: UnsafeMutablePointer<Float>) {
        BLAS.batchedGemm(batch: (count, heads), m: n, n: dh, k: n, a: p, lda: n, aStrides: probStrides,
                         b: qkv + 2 * d, ldb: row, bStrides: qkvStrides, c: out, ldc: d, cStrides: outStrides,
                         roundedB: qkv16.map { $0 + 2 * d })
    }

    /// dS, the gradient of the logits, from P and dO: dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)).
    func logitGradients(_ p: UnsafePointer<Float>, _ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?,
                        _ dOut: UnsafePointer<Float>, _ dOut16: UnsafePointer<UInt16>?, count: Int, into ds: UnsafeMutablePointer<Float>) {
        BLAS.batchedGemm(batch: (count, heads), transB: true, m: n, n: n, k: dh, a: dOut, lda: d, aStrides: outStrides,
                         b: qkv + 2 * d, ldb: row, bStrides: qkvStrides, c: ds, ldc: n, cStrides: probStrides,
                         roundedA: dOut16, roundedB: qkv16.map { $0 + 2 * d })
        let (n, heads) = (self.n, self.heads)
        Parallel.chunks(count * heads * n, grain: 64) { range in
            let offset = range.lowerBound * n
            softmaxBackwardRowsSerial(p + offset, ds + offset, ds + offset, rows: range.count, length: n)
        }
    }

    /// dQ = scale·dS·K, dK = scale·dSᵀ·Q, dV = Pᵀ·dO, written into `dqkv` (qkv's layout).
    func inputGradients(_ ds: UnsafePointer<Float>, _ ds16: UnsafePointer<UInt16>?, _ p: UnsafePointer<Float>,
                        _ qkv: UnsafePointer<Float>, _ qkv16: UnsafePointer<UInt16>?, _ dOut: UnsafePointer<Float>,
                        _ dOut16: UnsafePointer<UInt16>?, count: Int, into dqkv: UnsafeMutablePointer<Float>) {
        BLAS.batchedGemm(batch: (count, heads), m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, aStrides: probStrides,
                         b: qkv + d, ldb: row, bStrides: qkvStrides, c: dqkv, ldc: row, cStrides: qkvStrides,
                         roundedA: ds16, roundedB: qkv16.map { $0 + d })
        BLAS.batchedGemm(batch: (count, heads), transA: true, m: n, n: dh, k: n, alpha: scale, a: ds, lda: n, aStrides: probStrides,
                         b: qkv, ldb: row, bStrides: qkvStrides, c: dqkv + d, ldc: row, cStrides: qkvStrides,
                         roundedA: ds16, roundedB: qkv16)
        BLAS.batchedGemm(batch: (count, heads), transA: true, m: n, n: dh, k: n, a: p, lda: n, aStrides: probStrides,
                         b: dOut, ldb: d, bStrides: outStrides, c: dqkv + 2 * d, ldc: row, cStrides: qkvStrides,
                         roundedB: dOut16)
    }
}
