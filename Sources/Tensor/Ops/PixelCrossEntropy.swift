import Foundation

/// Softmax cross-entropy per pixel for semantic segmentation, as
/// `F.cross_entropy(logits, targets, ignore_index:)` on logits [B, C, H, W] and integer
/// targets [B, H, W] (flattened, row-major): the mean over pixels whose target is not
/// `ignoreIndex` (mmseg's and Hugging Face's 255 = unlabelled). With no labelled pixel the loss
/// is 0 with a zero gradient (PyTorch gives NaN; a crop of pure "unlabelled" must not poison a
/// training run).
public func pixelCrossEntropy(_ logits: Tensor, targets: [Int], ignoreIndex: Int = 255) -> Tensor {
    precondition(logits.rank == 4, "pixelCrossEntropy: logits must be [B, C, H, W], got \(logits.shape)")
    let (b, c, plane) = (logits.shape[0], logits.shape[1], logits.shape[2] * logits.shape[3])
    precondition(targets.count == b * plane, "pixelCrossEntropy: \(targets.count) targets for logits \(logits.shape)")
    for t in targets where t != ignoreIndex {
        precondition(t >= 0 && t < c, "pixelCrossEntropy: target \(t) outside 0..<\(c) (and not the ignore index \(ignoreIndex))")
    }
    let labelled = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
    // Per pixel: log-sum-exp over the classes (strided by the plane size in NCHW).
    var lse = [Float](repeating: 0, count: b * plane)
    var loss: Double = 0
    for n in 0..<b {
        let base = logits.data + n * c * plane
        for p in 0..<plane where targets[n * plane + p] != ignoreIndex {
            var m = -Float.infinity
            for k in 0..<c { m = Swift.max(m, base[k * plane + p]) }
            var sum: Float = 0
            for k in 0..<c { sum += Foundation.exp(base[k * plane + p] - m) }
            let l = m + Foundation.log(sum)
            lse[n * plane + p] = l
            loss += Double(l - base[targets[n * plane + p] * plane + p])
        }
    }
    let out = Tensor(scalar: labelled > 0 ? Float(loss / Double(labelled)) : 0)
    if Tensor.needsGraph([logits]) {
        let kept = logits.detached()
        out.record("pixel_cross_entropy", [logits]) { g in
            let d = Tensor.zeros(kept.shape)
            guard labelled > 0 else { return [d] }
            let scale = g.item / Float(labelled)
            for n in 0..<b {
                let src = kept.data + n * c * plane, dst = d.data + n * c * plane
                for p in 0..<plane {
                    let t = targets[n * plane + p]
                    if t == ignoreIndex { continue }
                    let l = lse[n * plane + p]
                    for k in 0..<c { dst[k * plane + p] = (Foundation.exp(src[k * plane + p] - l) - (k == t ? 1 : 0)) * scale }
                }
            }
            return [d]
        }
    }
    return out
}
