import Foundation

/// Mean softmax cross-entropy of `logits` [B, C] against integer `targets`, with label
/// smoothing `s` as timm/PyTorch define it: target distribution (1 − s)·onehot + s/C.
public func crossEntropy(_ logits: Tensor, targets: [Int], labelSmoothing s: Float = 0) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [B, C], got \(logits.shape)")
    let (b, c) = (logits.shape[0], logits.shape[1])
    precondition(targets.count == b, "crossEntropy: \(targets.count) targets for \(b) rows")
    precondition(s >= 0 && s < 1, "crossEntropy: label smoothing \(s) must be in [0, 1)")
    for t in targets { precondition(t >= 0 && t < c, "crossEntropy: target \(t) outside 0..<\(c)") }
    let probs = Tensor(uninitializedShape: [b, c])
    var loss: Double = 0
    for i in 0..<b {
        let p = logits.data + i * c, q = probs.data + i * c
        var m = -Float.infinity
        for j in 0..<c { m = Swift.max(m, p[j]) }
        var sum: Float = 0
        for j in 0..<c { let e = Foundation.exp(p[j] - m); q[j] = e; sum += e }
        let lse = m + Foundation.log(sum)
        var meanLogP: Float = 0
        for j in 0..<c { q[j] /= sum; meanLogP += p[j] - lse }
        meanLogP /= Float(c)
        loss += Double(-(1 - s) * (p[targets[i]] - lse) - s * meanLogP)
    }
    let out = Tensor(scalar: Float(loss / Double(b)))
    if Tensor.needsGraph([logits]) {
        out.record("cross_entropy", [logits]) { g in
            let scale = g.item / Float(b)
            let d = Tensor(uninitializedShape: [b, c])
            for i in 0..<b {
                for j in 0..<c {
                    let target = (j == targets[i] ? 1 - s : 0) + s / Float(c)
                    d.data[i * c + j] = (probs.data[i * c + j] - target) * scale
                }
            }
            return [d]
        }
    }
    return out
}
