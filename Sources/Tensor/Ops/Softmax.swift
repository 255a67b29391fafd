/// Softmax and log-softmax over one axis (vectorised rows; other axes are permuted last).

extension Tensor {
    public func softmax(dim: Int = -1) -> Tensor { rowwise(dim) { $0.softmaxLastAxis() } }
    public func logSoftmax(dim: Int = -1) -> Tensor { rowwise(dim) { $0.logSoftmaxLastAxis() } }

    private func rowwise(_ dim: Int, _ f: (Tensor) -> Tensor) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "softmax")
        if d == rank - 1 { return f(self) }
        return f(transposed(d, -1)).transposed(d, -1)
    }

    private func softmaxLastAxis() -> Tensor {
        let n = shape.last ?? 1, rows = count / Swift.max(n, 1)
        let out = Tensor(uninitializedShape: shape)
        softmaxRows(data, out.data, rows: rows, length: n, stride: n)
        if Tensor.needsGraph([self]) {
            let y = out.detached()
            out.record("softmax", [self]) { g in
                let dx = Tensor(uninitializedShape: y.shape)
                softmaxBackwardRows(y.data, g.data, dx.data, rows: rows, length: n)
                return [dx]
            }
        }
        return out
    }

    private func logSoftmaxLastAxis() -> Tensor {
        let n = shape.last ?? 1, rows = count / Swift.max(n, 1)
        let out = Tensor(uninitializedShape: shape)
        let src = data, dst = out.data
        Parallel.chunks(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { range in
            for r in range {
                let p = src + r * n, q = dst + r * n
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, p[j]) }
                var s: Float = 0
                for j in 0..<n { s += fastExp(p[j] - m) }
                let lse = m + Foundation.log(s)
                for j in 0..<n { q[j] = p[j] - lse }
            }
        }
        if Tensor.needsGraph([self]) {
            let y = out.detached()
            out.record("log_softmax", [self]) { g in
                let dx = Tensor(uninitializedShape: y.shape)
                for r in 0..<rows {
                    let yp = y.data + r * n, gp = g.data + r * n, dp = dx.data + r * n
                    let total = sumContiguous(gp, n)
                    for j in 0..<n { dp[j] = gp[j] - fastExp(yp[j]) * total }
                }
                return [dx]
            }
        }
        return out
    }
}

/// Row softmax of `rows` rows of `length` (rows `stride` apart), over threads.
func softmaxRows(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, length n: Int, stride: Int) {
    Parallel.chunks(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { range in
        let offset = range.lowerBound * stride
        softmaxRowsSerial(src + offset, dst + offset, rows: range.count, length: n, stride: stride)
    }
}

/// In-place softmax of contiguous rows on the calling thread.
func softmaxRowsSerial(_ rows: UnsafeMutablePointer<Float>, rows count: Int, length n: Int) {
    softmaxRowsSerial(rows, rows, rows: count, length: n, stride: n)
}

/// Rows are copied to `dst` first when it is not `src`, and the exponentials are taken in place
/// through one pointer: a loop reading one pointer and writing another that may be the same
/// row cannot be vectorised (the compiler's overlap check fails and it runs the scalar loop,
/// ~10x slower — measured 3.2 vs 0.28 ns per element).
func softmaxRowsSerial(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, length n: Int, stride: Int) {
    for r in 0..<rows {
        let p = src + r * stride, q = dst + r * stride
        let m = maxContiguous(p, n)
        if UnsafePointer(q) != p { q.update(from: p, count: n) }
        for j in 0..<n { q[j] = fastExp(q[j] - m) }
        let inv = 1 / sumContiguous(q, n)
        for j in 0..<n { q[j] *= inv }
    }
}

/// dx = y ⊙ (g − Σ g⊙y) row by row, over threads.
func softmaxBackwardRows(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, length n: Int) {
    Parallel.chunks(rows, grain: Swift.max(1, 8192 / Swift.max(n, 1))) { range in
        let offset = range.lowerBound * n
        softmaxBackwardRowsSerial(y + offset, g + offset, dx + offset, rows: range.count, length: n)
    }
}

/// The same on the calling thread (`dx` may be `g`).
func softmaxBackwardRowsSerial(_ y: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int, length n: Int) {
    for r in 0..<rows {
        let yp = y + r * n, gp = g + r * n, dp = dx + r * n
        let dot = dotContiguous(yp, gp, n)
        // In place (dx is g) through one pointer, so the loop vectorises (see softmaxRowsSerial).
        if UnsafePointer(dp) == gp {
            for j in 0..<n { dp[j] = yp[j] * (dp[j] - dot) }
        } else {
            for j in 0..<n { dp[j] = yp[j] * (gp[j] - dot) }
        }
    }
}

import Foundation
