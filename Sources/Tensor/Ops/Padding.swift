/// Zero padding along one axis, as `F.pad` with constant zeros. Swin pads its feature map up to
/// a multiple of the window (and PatchMerging an odd side to an even one) and crops the padding
/// away afterwards with `narrowed`, which is this op's inverse: the gradient is the narrowed
/// output gradient.

extension Tensor {
    /// The tensor with `before` zeros ahead of and `after` zeros behind axis `dim`.
    public func padded(dim: Int, before: Int = 0, after: Int) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "pad")
        precondition(before >= 0 && after >= 0, "pad: negative padding (\(before), \(after)) on axis \(d) of \(shape)")
        if before == 0 && after == 0 { return self }
        let n = shape[d], total = before + n + after
        var outShape = shape
        outShape[d] = total
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: outShape)
        let (src, dst) = (data, out.data)
        Parallel.chunks(outer, grain: Swift.max(1, 32_768 / Swift.max(total * inner, 1))) { range in
            for o in range {
                let to = dst + o * total * inner
                to.initialize(repeating: 0, count: before * inner)
                (to + before * inner).update(from: src + o * n * inner, count: n * inner)
                (to + (before + n) * inner).initialize(repeating: 0, count: after * inner)
            }
        }
        if Tensor.needsGraph([self]) {
            out.record("pad", [self]) { g in [g.narrowed(d, start: before, length: n)] }
        }
        return out
    }
}
