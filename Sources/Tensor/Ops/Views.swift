/// Shape and layout ops. `reshaped` shares storage; the others copy into a new contiguous
/// tensor (storage stays contiguous row-major everywhere, which keeps every kernel simple).

/// Copies `shape`-many elements read from `src` with element `strides` into contiguous `dst`.
func stridedCopy(from src: UnsafePointer<Float>, strides: [Int], shape: [Int], to dst: UnsafeMutablePointer<Float>) {
    let n = Shape.count(shape)
    guard n > 0 else { return }
    guard let inner = shape.last else { dst[0] = src[0]; return }
    let innerStride = strides.last!
    let rows = n / max(inner, 1)
    let outer = Array(shape.dropLast()), outerStrides = Array(strides.dropLast())
    Parallel.chunks(rows, grain: max(1, 32_768 / max(inner, 1))) { range in
        for row in range {
            var rem = row, offset = 0
            for d in stride(from: outer.count - 1, through: 0, by: -1) {
                offset += (rem % outer[d]) * outerStrides[d]
                rem /= outer[d]
            }
            let s = src + offset, t = dst + row * inner
            if innerStride == 1 {
                t.update(from: s, count: inner)
            } else {
                for j in 0..<inner { t[j] = s[j * innerStride] }
            }
        }
    }
}

extension Tensor {
    /// Same storage, new shape (one dimension may be -1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            target[i] = count / known
        }
        precondition(Shape.count(target) == count, "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
        if target == shape { return self }
        let out = Tensor(shape: target, storage: storage)
        if Tensor.needsGraph([self]) {
            let original = shape
            out.record("reshape", [self]) { g in [g.reshaped(original)] }
        }
        return out
    }

    public func flattened(from start: Int = 0) -> Tensor {
        let s = Shape.axis(start, rank: rank, op: "flatten")
        return reshaped(Array(shape[..<s]) + [shape[s...].reduce(1, *)])
    }

    /// Reorders axes: result axis i is input axis `dims[i]`.
    public func permuted(_ dims: [Int]) -> Tensor {
        precondition(dims.sorted() == Array(0..<rank), "permute: \(dims) is not a permutation of the axes of shape \(shape)")
        if dims == Array(0..<rank) { return self }
        let inStrides = Shape.strides(shape)
        let outShape = dims.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        stridedCopy(from: data, strides: dims.map { inStrides[$0] }, shape: outShape, to: out.data)
        if Tensor.needsGraph([self]) {
            var inverse = [Int](repeating: 0, count: dims.count)
            for (i, d) in dims.enumerated() { inverse[d] = i }
            out.record("permute", [self]) { g in [g.permuted(inverse)] }
        }
        return out
    }

    /// Swaps two axes (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var dims = Array(0..<rank)
        dims.swapAt(Shape.axis(a, rank: rank, op: "transpose"), Shape.axis(b, rank: rank, op: "transpose"))
        return permuted(dims)
    }

    /// `length` entries of axis `dim` starting at `start`.
    public func narrowed(_ dim: Int, start: Int, length: Int) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "narrow")
        precondition(start >= 0 && length >= 0 && start + length <= shape[d],
                     "narrow: range \(start)..<\(start + length) outside axis \(d) of shape \(shape)")
        if start == 0 && length == shape[d] { return self }
        var outShape = shape
        outShape[d] = length
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: outShape)
        for o in 0..<outer {
            (out.data + o * length * inner).update(from: data + (o * shape[d] + start) * inner, count: length * inner)
        }
        if Tensor.needsGraph([self]) {
            let full = shape
            out.record("narrow", [self]) { g in
                let dx = Tensor.zeros(full)
                for o in 0..<outer {
                    (dx.data + (o * full[d] + start) * inner).update(from: g.data + o * length * inner, count: length * inner)
                }
                return [dx]
            }
        }
        return out
    }

    /// This tensor with `delta` added to entries `start ..< start + delta.shape[dim]` of axis
    /// `dim` (LoRA on one slice of a fused qkv output) — no full-size zero padding.
    public func addingNarrow(_ delta: Tensor, dim: Int, start: Int) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "addingNarrow")
        let length = delta.shape[d]
        var expected = shape
        expected[d] = length
        precondition(delta.shape == expected && start >= 0 && start + length <= shape[d],
                     "addingNarrow: delta \(delta.shape) at \(start) does not fit axis \(d) of \(shape)")
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let out = copy()
        for o in 0..<outer {
            let dst = out.data + (o * shape[d] + start) * inner, src = delta.data + o * length * inner
            for i in 0..<(length * inner) { dst[i] += src[i] }
        }
        if Tensor.needsGraph([self, delta]) {
            let needSelf = requiresGrad, needDelta = delta.requiresGrad
            out.record("adding_narrow", [self, delta]) { g in
                [needSelf ? g : nil, needDelta ? g.narrowed(d, start: start, length: length) : nil]
            }
        }
        return out
    }

    /// Splits axis `dim` into pieces of the given sizes.
    public func split(_ sizes: [Int], dim: Int) -> [Tensor] {
        let d = Shape.axis(dim, rank: rank, op: "split")
        precondition(sizes.reduce(0, +) == shape[d], "split: sizes \(sizes) do not sum to axis \(d) of shape \(shape)")
        var start = 0
        return sizes.map { size in defer { start += size }; return narrowed(d, start: start, length: size) }
    }

    /// `parts` equal pieces along `dim`.
    public func chunked(_ parts: Int, dim: Int) -> [Tensor] {
        let d = Shape.axis(dim, rank: rank, op: "chunk")
        precondition(parts > 0 && shape[d] % parts == 0, "chunk: axis \(d) of shape \(shape) does not split into \(parts)")
        return split([Int](repeating: shape[d] / parts, count: parts), dim: d)
    }

    /// Broadcasts to `target` (a copy; the gradient sums back).
    public func expanded(to target: [Int]) -> Tensor {
        precondition(Shape.broadcast(shape, target, op: "expand") == target, "expand: \(shape) cannot expand to \(target)")
        if target == shape { return self }
        let out = materialisedBroadcast(to: target)
        if Tensor.needsGraph([self]) {
            let original = shape
            out.record("expand", [self]) { g in [g.summed(toShape: original)] }
        }
        return out
    }

    /// Rows (entries along `dim`) picked by `indices`; repeated indices accumulate gradient.
    public func indexSelect(_ indices: [Int], dim: Int = 0) -> Tensor {
        let d = Shape.axis(dim, rank: rank, op: "indexSelect")
        for i in indices { precondition(i >= 0 && i < shape[d], "indexSelect: index \(i) out of range for axis \(d) of shape \(shape)") }
        var outShape = shape
        outShape[d] = indices.count
        let outer = shape[..<d].reduce(1, *), inner = shape[(d + 1)...].reduce(1, *)
        let out = Tensor(uninitializedShape: outShape)
        for o in 0..<outer {
            for (j, i) in indices.enumerated() {
                (out.data + (o * indices.count + j) * inner).update(from: data + (o * shape[d] + i) * inner, count: inner)
            }
        }
        if Tensor.needsGraph([self]) {
            let full = shape
            out.record("index_select", [self]) { g in
                let dx = Tensor.zeros(full)
                for o in 0..<outer {
                    for (j, i) in indices.enumerated() {
                        let src = g.data + (o * indices.count + j) * inner, dst = dx.data + (o * full[d] + i) * inner
                        for k in 0..<inner { dst[k] += src[k] }
                    }
                }
                return [dx]
            }
        }
        return out
    }
}

/// Joins tensors along `dim` (all other axes equal).
public func concat(_ tensors: [Tensor], dim: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat: no tensors")
    let first = tensors[0]
    let d = Shape.axis(dim, rank: first.rank, op: "concat")
    for t in tensors {
        precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == d || t.shape[$0] == first.shape[$0] },
                     "concat: shapes \(tensors.map(\.shape)) differ outside axis \(d)")
    }
    let sizes = tensors.map { $0.shape[d] }
    var outShape = first.shape
    outShape[d] = sizes.reduce(0, +)
    let outer = first.shape[..<d].reduce(1, *), inner = first.shape[(d + 1)...].reduce(1, *)
    let out = Tensor(uninitializedShape: outShape)
    var offset = 0
    for (t, size) in zip(tensors, sizes) {
        for o in 0..<outer {
            (out.data + (o * outShape[d] + offset) * inner).update(from: t.data + o * size * inner, count: size * inner)
        }
        offset += size
    }
    if Tensor.needsGraph(tensors) {
        let needs = tensors.map(\.requiresGrad)
        out.record("concat", tensors) { g in
            var start = 0
            return zip(sizes, needs).map { size, need in
                defer { start += size }
                return need ? g.narrowed(d, start: start, length: size) : nil
            }
        }
    }
    return out
}
