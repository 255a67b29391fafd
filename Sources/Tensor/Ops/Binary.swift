/// Elementwise arithmetic of two tensors with NumPy broadcasting. The gradient of a broadcast
/// input is the output gradient summed back to the input's shape.

/// Computes `f` over the broadcast of `a` and `b`, choosing a contiguous fast path when the
/// layout allows (equal shapes, a scalar side, a trailing-dims operand such as a bias).
func broadcastZip(_ op: String, _ a: Tensor, _ b: Tensor, _ f: (Vec, Vec) -> Vec) -> Tensor {
    let shape = a.shape == b.shape ? a.shape : Shape.broadcast(a.shape, b.shape, op: op)
    let out = Tensor(uninitializedShape: shape)
    let n = out.count
    if a.count == n && b.count == n {
        zipVectorised(a.data, b.data, out.data, n, f)
    } else if b.count == 1 {
        let vb = Vec(repeating: b.data[0])
        mapVectorised(a.data, out.data, n) { f($0, vb) }
    } else if a.count == 1 {
        let va = Vec(repeating: a.data[0])
        mapVectorised(b.data, out.data, n) { f(va, $0) }
    } else if a.count == n && isTrailing(b.shape, of: shape) {
        let inner = b.count, rows = n / inner
        Parallel.chunks(rows, grain: max(1, 16_384 / inner)) { r in
            for row in r { zipVectorisedSerial(a.data + row * inner, b.data, out.data + row * inner, inner, f) }
        }
    } else if b.count == n && isTrailing(a.shape, of: shape) {
        let inner = a.count, rows = n / inner
        Parallel.chunks(rows, grain: max(1, 16_384 / inner)) { r in
            for row in r { zipVectorisedSerial(a.data, b.data + row * inner, out.data + row * inner, inner, f) }
        }
    } else {
        // General case: materialise both sides at the output shape (rare: odd broadcasts).
        let ea = a.count == n ? a : a.materialisedBroadcast(to: shape)
        let eb = b.count == n ? b : b.materialisedBroadcast(to: shape)
        zipVectorised(ea.data, eb.data, out.data, n, f)
    }
    return out
}

/// True when `small` equals the last dims of `shape` (after dropping its leading 1s).
private func isTrailing(_ small: [Int], of shape: [Int]) -> Bool {
    let s = Array(small.drop { $0 == 1 })
    return s.count <= shape.count && Array(shape.suffix(s.count)) == s
}

@inline(__always)
func zipVectorisedSerial(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                         _ f: (Vec, Vec) -> Vec) {
    var i = 0
    while i + 16 <= n {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: Vec.self)
        let vb = UnsafeRawPointer(b + i).loadUnaligned(as: Vec.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f(va, vb), as: Vec.self)
        i += 16
    }
    if i < n { storePartial(f(loadPartial(a + i, n - i), loadPartial(b + i, n - i)), dst + i, n - i) }
}

extension Tensor {
    /// A copy of this tensor's values broadcast to `target` (no autodiff; see `expand`).
    func materialisedBroadcast(to target: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: target)
        stridedCopy(from: data, strides: Shape.broadcastStrides(shape, to: target), shape: target, to: out.data)
        return out
    }

    /// Sums a gradient of the broadcast shape back to `target` (the input's shape).
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        precondition(offset >= 0, "sum(toShape:): \(shape) cannot reduce to \(target)")
        var dims = Array(0..<offset)
        for (i, d) in target.enumerated() where d == 1 && shape[offset + i] != 1 { dims.append(offset + i) }
        if dims.isEmpty { return reshaped(target) }
        return sum(dims: dims, keepDims: false).reshaped(target)
    }
}

private func binary(_ op: String, _ a: Tensor, _ b: Tensor, _ f: (Vec, Vec) -> Vec,
                    backward: @escaping (_ g: Tensor, _ a: Tensor?, _ b: Tensor?, _ needA: Bool, _ needB: Bool) -> [Tensor?],
                    savesA: Bool, savesB: Bool) -> Tensor {
    let out = broadcastZip(op, a, b, f)
    if Tensor.needsGraph([a, b]) {
        let needA = a.requiresGrad, needB = b.requiresGrad
        // Save an operand only when the other operand's gradient needs it.
        let keptA = savesA && needB ? SavedActivation(a) : nil
        let keptB = savesB && needA ? SavedActivation(b) : nil
        let shapeA = a.shape, shapeB = b.shape
        out.record(op, [a, b]) { g in
            let grads = backward(g, keptA?.restored(), keptB?.restored(), needA, needB)
            return [grads[0]?.summed(toShape: shapeA), grads[1]?.summed(toShape: shapeB)]
        }
    }
    return out
}

public func + (a: Tensor, b: Tensor) -> Tensor {
    binary("add", a, b, { $0 + $1 }, backward: { g, _, _, na, nb in [na ? g : nil, nb ? g : nil] }, savesA: false, savesB: false)
}

public func - (a: Tensor, b: Tensor) -> Tensor {
    binary("sub", a, b, { $0 - $1 }, backward: { g, _, _, na, nb in [na ? g : nil, nb ? g.neg() : nil] }, savesA: false, savesB: false)
}

public func * (a: Tensor, b: Tensor) -> Tensor {
    binary("mul", a, b, { $0 * $1 }, backward: { g, a, b, na, nb in
        [na ? g * b! : nil, nb ? g * a! : nil]
    }, savesA: true, savesB: true)
}

public func / (a: Tensor, b: Tensor) -> Tensor {
    binary("div", a, b, { $0 / $1 }, backward: { g, a, b, na, nb in
        // The quotient's gradient w.r.t. b needs both a and b.
        [na ? g / b! : nil, nb ? -(g * a! / (b! * b!)) : nil]
    }, savesA: true, savesB: true)
}

/// Same as `a + b`, spelled as a function (autograd uses it to accumulate).
public func add(_ a: Tensor, _ b: Tensor) -> Tensor { a + b }

/// `dst += src` in place, no autodiff (gradient accumulation, optimisers).
public func addInPlace(_ dst: Tensor, _ src: Tensor, scale: Float = 1) {
    precondition(dst.shape == src.shape, "addInPlace: shapes \(dst.shape) and \(src.shape) differ")
    let s = Vec(repeating: scale)
    zipVectorised(dst.data, src.data, dst.data, dst.count) { $0 + s * $1 }
}

/// `condition ? a : b` elementwise with broadcasting; `condition` holds 0 / non-zero and gets no
/// gradient.
public func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    let shape = Shape.broadcast(Shape.broadcast(condition.shape, a.shape, op: "where"), b.shape, op: "where")
    let c = condition.count == Shape.count(shape) ? condition : condition.materialisedBroadcast(to: shape)
    let ea = a.shape == shape ? a : a.materialisedBroadcast(to: shape)
    let eb = b.shape == shape ? b : b.materialisedBroadcast(to: shape)
    let out = Tensor(uninitializedShape: shape)
    for i in 0..<out.count { out.data[i] = c.data[i] != 0 ? ea.data[i] : eb.data[i] }
    if Tensor.needsGraph([a, b]) {
        let mask = c.detached(), shapeA = a.shape, shapeB = b.shape
        let needA = a.requiresGrad, needB = b.requiresGrad
        out.record("where", [a, b]) { g in
            let ga = needA ? Tensor(uninitializedShape: g.shape) : nil
            let gb = needB ? Tensor(uninitializedShape: g.shape) : nil
            for i in 0..<g.count {
                let take = mask.data[i] != 0
                ga?.data[i] = take ? g.data[i] : 0
                gb?.data[i] = take ? 0 : g.data[i]
            }
            return [ga?.summed(toShape: shapeA), gb?.summed(toShape: shapeB)]
        }
    }
    return out
}
