/// Reductions over any set of axes: sum, mean, max, variance.

extension Tensor {
    /// Normalised, sorted, de-duplicated reduction axes (empty `dims` means all axes).
    private func reductionAxes(_ dims: [Int], op: String) -> [Int] {
        if dims.isEmpty { return Array(0..<rank) }
        return Array(Set(dims.map { Shape.axis($0, rank: rank, op: op) })).sorted()
    }

    private func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        keepDims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                 : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// The values arranged as [kept, reduced] rows: contiguous rows of the reduced axes.
    private func rowsLayout(_ axes: [Int]) -> (rows: Tensor, rowCount: Int, rowLength: Int) {
        let kept = (0..<rank).filter { !axes.contains($0) }
        let rowLength = axes.reduce(1) { $0 * shape[$1] }
        let laidOut = axes == Array((rank - axes.count)..<rank) ? self : withoutGradients { permuted(kept + axes) }
        return (laidOut, count / Swift.max(rowLength, 1), rowLength)
    }

    /// Sum over `dims` (all axes when empty).
    public func sum(dims: [Int] = [], keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(dims, op: "sum")
        let outShape = reducedShape(axes, keepDims: keepDims)
        let out = Tensor(uninitializedShape: outShape)
        let prefixCount = axes.count
        if axes == Array(0..<prefixCount) && prefixCount < rank {
            // Leading axes (e.g. a bias gradient over batch and tokens): accumulate columns.
            let inner = count / Swift.max(axes.reduce(1) { $0 * shape[$1] }, 1), outer = count / Swift.max(inner, 1)
            let src = data, dst = out.data
            Parallel.chunks(inner, grain: 256) { cols in
                for j in cols { dst[j] = 0 }
                for i in 0..<outer {
                    let row = src + i * inner
                    for j in cols { dst[j] += row[j] }
                }
            }
        } else {
            let (rows, rowCount, rowLength) = rowsLayout(axes)
            let src = rows.data, dst = out.data
            Parallel.chunks(rowCount, grain: Swift.max(1, 8192 / Swift.max(rowLength, 1))) { r in
                for row in r { dst[row] = sumContiguous(src + row * rowLength, rowLength) }
            }
        }
        if Tensor.needsGraph([self]) {
            let inputShape = shape, keptShape = reducedShape(axes, keepDims: true)
            out.record("sum", [self]) { g in [g.reshaped(keptShape).materialisedBroadcast(to: inputShape)] }
        }
        return out
    }

    public func mean(dims: [Int] = [], keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(dims, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(dims: axes, keepDims: keepDims).scaled(by: 1 / Float(Swift.max(n, 1)))
    }

    /// Maximum over `dims`; ties share the gradient equally (torch.amax semantics).
    public func max(dims: [Int] = [], keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(dims, op: "max")
        let (rows, rowCount, rowLength) = rowsLayout(axes)
        precondition(rowLength > 0, "max: reducing an empty axis of shape \(shape)")
        let out = Tensor(uninitializedShape: reducedShape(axes, keepDims: keepDims))
        for row in 0..<rowCount {
            let p = rows.data + row * rowLength
            var m = p[0]
            for j in 1..<rowLength where p[j] > m { m = p[j] }
            out.data[row] = m
        }
        if Tensor.needsGraph([self]) {
            let x = detached(), maxima = out.detached(), keptShape = reducedShape(axes, keepDims: true)
            out.record("max", [self]) { g in
                let m = maxima.reshaped(keptShape).materialisedBroadcast(to: x.shape)
                let mask = Tensor(uninitializedShape: x.shape)
                for i in 0..<x.count { mask.data[i] = x.data[i] == m.data[i] ? 1 : 0 }
                let ties = mask.sum(dims: axes, keepDims: true)
                return [mask * (g.reshaped(keptShape) / ties)]
            }
        }
        return out
    }

    /// Variance over `dims` with `correction` (1 = unbiased, torch's default; 0 = population).
    public func variance(dims: [Int] = [], correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(dims, op: "var")
        let (rows, rowCount, rowLength) = rowsLayout(axes)
        let denominator = Float(rowLength - correction)
        precondition(denominator > 0, "var: \(rowLength) values with correction \(correction)")
        let out = Tensor(uninitializedShape: reducedShape(axes, keepDims: keepDims))
        for row in 0..<rowCount {
            let p = rows.data + row * rowLength
            let mean = sumContiguous(p, rowLength) / Float(rowLength)
            var acc: Float = 0
            for j in 0..<rowLength { let d = p[j] - mean; acc += d * d }
            out.data[row] = acc / denominator
        }
        if Tensor.needsGraph([self]) {
            let x = detached(), keptShape = reducedShape(axes, keepDims: true)
            out.record("var", [self]) { g in
                let centred = x - x.mean(dims: axes, keepDims: true)
                return [centred * (g.reshaped(keptShape) * (2 / denominator))]
            }
        }
        return out
    }
}

/// Sum of `n` contiguous floats with 16 independent partial sums (vectorised, and more accurate
/// than one running sum).
@inline(__always)
func sumContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: 0)
    var i = 0
    while i + 16 <= n {
        acc += UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// The largest of `n` contiguous floats (−∞ for none), sixteen lanes at a time: a scalar
/// running max is a serial dependency chain the compiler may not reorder. Written as lane-wise
/// selects, which compile to one vector max; `pointwiseMax` and `SIMD.max()` compile to
/// lane-by-lane code (measured 0.13 ns per element here against 3.6 for those, 1.2 scalar).
func maxContiguous(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: -.infinity)
    var i = 0
    while i + 16 <= n {
        let v = UnsafeRawPointer(p + i).loadUnaligned(as: Vec.self)
        for l in 0..<16 { acc[l] = v[l] > acc[l] ? v[l] : acc[l] }
        i += 16
    }
    var m = -Float.infinity
    for l in 0..<16 { m = acc[l] > m ? acc[l] : m }
    while i < n { m = Swift.max(m, p[i]); i += 1 }
    return m
}

/// Σ a[i]·b[i] over `n` contiguous floats, sixteen lanes at a time.
func dotContiguous(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec(repeating: 0)
    var i = 0
    while i + 16 <= n {
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: Vec.self) * UnsafeRawPointer(b + i).loadUnaligned(as: Vec.self)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}
