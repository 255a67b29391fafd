/// Cyclic shifts along axes, as `torch.roll`: entry i of the result is entry (i − shift) mod n
/// of the input, so a positive shift moves entries towards higher indices and those pushed past
/// the end come back at the start. Swin's shifted windows roll the feature map by −s before
/// windowing and by +s after. The gradient is the opposite roll.

extension Tensor {
    /// The tensor rolled by `shift` along axis `dim` (any sign; taken modulo the axis size).
    public func rolled(_ shift: Int, dim: Int) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "roll")
        let n = shape[d]
        let s = n == 0 ? 0 : ((shift % n) + n) % n
        if s == 0 { return self }
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: shape)
        // Per outer index two block copies: the last s entries move to the front, the rest after them.
        let (src, dst) = (data, out.data)
        Parallel.chunks(outer, grain: Swift.max(1, 32_768 / Swift.max(n * inner, 1))) { range in
            for o in range {
                let from = src + o * n * inner, to = dst + o * n * inner
                to.update(from: from + (n - s) * inner, count: s * inner)
                (to + s * inner).update(from: from, count: (n - s) * inner)
            }
        }
        if Tensor.needsGraph([self]) {
            out.record("roll", [self]) { g in [g.rolled(-s, dim: d)] }
        }
        return out
    }

    /// The tensor rolled by `shifts[i]` along `dims[i]` for every i (`torch.roll(x, shifts, dims)`).
    public func rolled(_ shifts: [Int], dims: [Int]) -> Tensor {
        precondition(shifts.count == dims.count, "roll: \(shifts.count) shifts for \(dims.count) axes")
        var x = self
        for (shift, dim) in zip(shifts, dims) { x = x.rolled(shift, dim: dim) }
        return x
    }
}
