/// Stochastic regularisers. Both are the identity when `training` is false or p = 0.

extension Tensor {
    /// Zeroes each element with probability `p` and scales survivors by 1/(1−p).
    public func dropout(_ p: Float, training: Bool, using rng: inout SeededRandom) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: probability \(p) must be in [0, 1)")
        guard training && p > 0 else { return self }
        let mask = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count { mask.data[i] = rng.nextUniform() < p ? 0 : keep }
        return maskedBy(mask, op: "dropout")
    }

    /// Stochastic depth: drops the whole sample (axis 0) with probability `p`, scaling kept
    /// samples by 1/(1−p) (timm's `drop_path` with `scale_by_keep`).
    public func dropPath(_ p: Float, training: Bool, using rng: inout SeededRandom) -> Tensor {
        precondition(p >= 0 && p < 1, "dropPath: probability \(p) must be in [0, 1)")
        guard training && p > 0 else { return self }
        var maskShape = [Int](repeating: 1, count: rank)
        maskShape[0] = shape[0]
        let mask = Tensor(uninitializedShape: maskShape)
        for i in 0..<shape[0] { mask.data[i] = rng.nextUniform() < p ? 0 : 1 / (1 - p) }
        return maskedBy(mask, op: "drop_path")
    }

    /// self ⊙ mask with the mask treated as a constant.
    private func maskedBy(_ mask: Tensor, op: String) -> Tensor {
        let out = broadcastZip(op, self, mask, *)
        if Tensor.needsGraph([self]) {
            let original = shape
            out.record(op, [self]) { g in [(g * mask).summed(toShape: original)] }
        }
        return out
    }
}
