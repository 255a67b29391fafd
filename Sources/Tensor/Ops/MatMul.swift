/// Matrix products, all through `BLAS.gemm` with transposes passed as flags.

/// `op(a) · op(b)` over the last two axes, where `op` transposes when its flag is set.
/// Batch axes must be equal, or `b` may be a plain matrix shared by every batch entry.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs rank ≥ 2, got \(a.shape) and \(b.shape)")
    let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
    let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
    let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
    let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
    precondition(k == kb, "matmul: inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let sharedB = b.rank == 2
    precondition(sharedB || batchA == batchB, "matmul: batch axes differ: \(a.shape) and \(b.shape)")
    let batch = batchA.reduce(1, *)
    let out = Tensor(uninitializedShape: batchA + [m, n])
    if sharedB && !transposeA {
        // Fold the batch into the rows: one large product.
        BLAS.gemm(transB: transposeB, m: batch * m, n: n, k: k, a: a.data, b: b.data, c: out.data)
    } else {
        for i in 0..<batch {
            BLAS.gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                      a: a.data + i * m * k, b: b.data + (sharedB ? 0 : i * k * n), c: out.data + i * m * n)
        }
    }
    if Tensor.needsGraph([a, b]) {
        let keptA = b.requiresGrad ? a.detached() : nil
        let keptB = a.requiresGrad ? b.detached() : nil
        out.record("matmul", [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            if let keptB {
                if !transposeA {
                    ga = matmul(g, keptB, transposeB: !transposeB)
                } else if sharedB {
                    ga = matmul(g, keptB, transposeB: !transposeB).transposed()
                } else {
                    ga = matmul(keptB, g, transposeA: transposeB, transposeB: true)
                }
            }
            if let keptA {
                if sharedB {
                    // The shared matrix's gradient sums over the batch.
                    if transposeA {
                        // Σ_i A_i · dC_i (A_i is [k, m]), accumulated in place by gemm.
                        let t = Tensor.zeros(transposeB ? [n, k] : [k, n])
                        for i in 0..<batch {
                            let ai = keptA.data + i * k * m, gi = g.data + i * m * n
                            if transposeB {
                                BLAS.gemm(transA: true, transB: true, m: n, n: k, k: m, a: gi, b: ai, beta: 1, c: t.data)
                            } else {
                                BLAS.gemm(m: k, n: n, k: m, a: ai, b: gi, beta: 1, c: t.data)
                            }
                        }
                        gb = t
                    } else {
                        // Fold the batch into the contraction.
                        let a2 = keptA.reshaped([batch * m, k]), g2 = g.reshaped([batch * m, n])
                        gb = transposeB ? matmul(g2, a2, transposeA: true) : matmul(a2, g2, transposeA: true)
                    }
                } else {
                    gb = transposeB ? matmul(g, keptA, transposeA: true, transposeB: transposeA)
                                    : matmul(keptA, g, transposeA: !transposeA)
                }
            }
            return [ga, gb]
        }
    }
    return out
}

/// `x · Wᵀ + b` over the last axis of `x` (PyTorch's `nn.Linear`). `weight` is [out, in].
/// Saves `x` only when the weight trains, and `W` only when `x` needs a gradient.
public func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
    let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures, "linear: input \(x.shape) does not end in \(inFeatures) (weight \(weight.shape))")
    if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) != [\(outFeatures)]") }
    let rows = x.count / max(inFeatures, 1)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outFeatures])
    if let bias {
        for r in 0..<rows { (out.data + r * outFeatures).update(from: bias.data, count: outFeatures) }
    }
    let recording = Tensor.needsGraph([x, weight, bias])
    // The input a trainable weight's gradient needs, kept (in bf16 mode: its rounding, which the
    // product below reads too).
    let savedX = recording && weight.requiresGrad ? SavedActivation(x) : nil
    BLAS.gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x.data, b: weight.data, beta: bias == nil ? 0 : 1, c: out.data,
              roundedA: savedX?.roundedValues)
    if recording {
        let keptW = x.requiresGrad ? weight.detached() : nil
        let needBias = bias?.requiresGrad == true
        let xShape = x.shape
        out.record("linear", [x, weight, bias]) { g in
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if let keptW {
                let t = Tensor(uninitializedShape: xShape)
                BLAS.gemm(m: rows, n: inFeatures, k: outFeatures, a: g.data, b: keptW.data, c: t.data)
                gx = t
            }
            if let savedX, case let keptX = savedX.restored() {
                let t = Tensor(uninitializedShape: [outFeatures, inFeatures])
                withExtendedLifetime(keptX) {
                    BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: g.data, b: keptX.data, c: t.data,
                              roundedB: savedX.roundedValues)
                }
                gw = t
            }
            if needBias { gb = g.reshaped([rows, outFeatures]).sum(dims: [0]) }
            return [gx, gw, gb]
        }
    }
    return out
}
