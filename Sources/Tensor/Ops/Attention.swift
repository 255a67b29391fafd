/// Fused multi-head attention: softmax(Q·[K; Kₓ]ᵀ·scale)·[V; Vₓ].
///
/// `q`, `k`, `v` are [B, H, N, Dh] (keys/values may have another token count M). The optional
/// `extraKeys`/`extraValues` [H, P, Dh] are appended to every batch entry's keys and values
/// (prefix tuning, PATT); their gradients sum over the batch. The probabilities are kept for the
/// backward only when some input trains.
public func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, extraKeys: Tensor? = nil, extraValues: Tensor? = nil, scale: Float) -> Tensor {
    let (b, h, n, dh) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "attention: q, k, v must be [B, H, N, Dh], got \(q.shape), \(k.shape), \(v.shape)")
    let m = k.shape[2]
    precondition(k.shape == [b, h, m, dh] && v.shape == [b, h, m, dh], "attention: k \(k.shape) / v \(v.shape) do not match q \(q.shape)")
    precondition((extraKeys == nil) == (extraValues == nil), "attention: extraKeys and extraValues go together")
    let p = extraKeys?.shape[1] ?? 0
    if let extraKeys, let extraValues {
        precondition(extraKeys.shape == [h, p, dh] && extraValues.shape == [h, p, dh],
                     "attention: extra keys \(extraKeys.shape) / values \(extraValues.shape) must be [\(h), P, \(dh)]")
    }
    let total = m + p
    let probs = attentionProbabilities(q, k, extraKeys: extraKeys, scale: scale)
    let out = Tensor(uninitializedShape: [b, h, n, dh])
    for bi in 0..<b {
        for hi in 0..<h {
            let pair = bi * h + hi
            let pr = probs.data + pair * n * total, o = out.data + pair * n * dh
            BLAS.gemm(m: n, n: dh, k: m, a: pr, lda: total, b: v.data + pair * m * dh, c: o)
            if let extraValues {
                BLAS.gemm(m: n, n: dh, k: p, a: pr + m, lda: total, b: extraValues.data + hi * p * dh, beta: 1, c: o)
            }
        }
    }
    let inputs = [q, k, v, extraKeys, extraValues]
    if Tensor.needsGraph(inputs) {
        let kq = q.detached(), kk = k.detached(), kv = v.detached(), kek = extraKeys?.detached(), kev = extraValues?.detached()
        let needs = inputs.map { $0?.requiresGrad == true }
        out.record("attention", inputs) { g in
            let gq = Tensor(uninitializedShape: q.shape), gk = Tensor(uninitializedShape: k.shape)
            let gv = Tensor(uninitializedShape: v.shape)
            let gek = kek.map { _ in Tensor.zeros([h, p, dh]) }, gev = kev.map { _ in Tensor.zeros([h, p, dh]) }
            // dP = dO · [V; Vₓ]ᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
            let dS = Tensor(uninitializedShape: [b, h, n, total])
            for pair in 0..<(b * h) {
                let hi = pair % h
                let go = g.data + pair * n * dh, ds = dS.data + pair * n * total
                BLAS.gemm(transB: true, m: n, n: m, k: dh, a: go, b: kv.data + pair * m * dh, c: ds, ldc: total)
                if let kev { BLAS.gemm(transB: true, m: n, n: p, k: dh, a: go, b: kev.data + hi * p * dh, c: ds + m, ldc: total) }
            }
            softmaxBackwardRows(probs.data, dS.data, dS.data, rows: b * h * n, length: total)
            for pair in 0..<(b * h) {
                let hi = pair % h
                let ds = dS.data + pair * n * total, pr = probs.data + pair * n * total
                let qp = kq.data + pair * n * dh, go = g.data + pair * n * dh
                // dQ = scale · dS · [K; Kₓ]
                BLAS.gemm(m: n, n: dh, k: m, alpha: scale, a: ds, lda: total, b: kk.data + pair * m * dh, c: gq.data + pair * n * dh)
                if let kek { BLAS.gemm(m: n, n: dh, k: p, alpha: scale, a: ds + m, lda: total, b: kek.data + hi * p * dh, beta: 1, c: gq.data + pair * n * dh) }
                // dK = scale · dSᵀ · Q ; dV = Pᵀ · dO
                BLAS.gemm(transA: true, m: m, n: dh, k: n, alpha: scale, a: ds, lda: total, b: qp, c: gk.data + pair * m * dh)
                BLAS.gemm(transA: true, m: m, n: dh, k: n, a: pr, lda: total, b: go, c: gv.data + pair * m * dh)
                if let gek, let gev {
                    BLAS.gemm(transA: true, m: p, n: dh, k: n, alpha: scale, a: ds + m, lda: total, b: qp, beta: 1, c: gek.data + hi * p * dh)
                    BLAS.gemm(transA: true, m: p, n: dh, k: n, a: pr + m, lda: total, b: go, beta: 1, c: gev.data + hi * p * dh)
                }
            }
            return [needs[0] ? gq : nil, needs[1] ? gk : nil, needs[2] ? gv : nil, needs[3] ? gek : nil, needs[4] ? gev : nil]
        }
    }
    return out
}

/// The attention probabilities softmax(Q·[K; Kₓ]ᵀ·scale), [B, H, N, M+P], without autodiff
/// (attention maps, and the forward of `attention`).
public func attentionProbabilities(_ q: Tensor, _ k: Tensor, extraKeys: Tensor? = nil, scale: Float) -> Tensor {
    let (b, h, n, dh) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let m = k.shape[2], p = extraKeys?.shape[1] ?? 0, total = m + p
    let probs = Tensor(uninitializedShape: [b, h, n, total])
    for pair in 0..<(b * h) {
        let s = probs.data + pair * n * total, qp = q.data + pair * n * dh
        BLAS.gemm(transB: true, m: n, n: m, k: dh, alpha: scale, a: qp, b: k.data + pair * m * dh, c: s, ldc: total)
        if let extraKeys {
            BLAS.gemm(transB: true, m: n, n: p, k: dh, alpha: scale, a: qp, b: extraKeys.data + (pair % h) * p * dh, c: s + m, ldc: total)
        }
    }
    softmaxRows(probs.data, probs.data, rows: b * h * n, length: total, stride: total)
    return probs
}
