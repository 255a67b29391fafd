/// Supervised contrastive loss (Khosla et al., NeurIPS 2020; SupContrast's `SupConLoss` with
/// temperature = base temperature) of `features` [N, D] — every view of every image, one per
/// row — with `labels` [N]: features are L2-normalised; for each anchor i,
///     ℓᵢ = −1/|P(i)| Σ_{p∈P(i)} log( exp(zᵢ·z_p/τ) / Σ_{a≠i} exp(zᵢ·z_a/τ) ),
/// P(i) the other rows with i's label; the loss is the mean of ℓᵢ over anchors with at least one
/// positive. Built from differentiable ops, so its gradient is the engine's.
public func supervisedContrastiveLoss(_ features: Tensor, labels: [Int], temperature: Float = 0.07) -> Tensor {
    precondition(features.rank == 2 && features.shape[0] == labels.count, "supervisedContrastiveLoss: \(labels.count) labels for features \(features.shape)")
    let n = labels.count
    let z = features / features.squared().sum(dims: [1], keepDims: true).sqrt().adding(1e-12)
    let logits = matmul(z, z, transposeB: true) / temperature
    // Constants: −∞-like on the diagonal (no self-contrast), and the positives per anchor.
    var selfMask = [Float](repeating: 0, count: n * n), positives = [Float](repeating: 0, count: n * n)
    var anchors: [Int] = []
    for i in 0..<n {
        selfMask[i * n + i] = -1e4
        let count = (0..<n).filter { $0 != i && labels[$0] == labels[i] }.count
        guard count > 0 else { continue }
        anchors.append(i)
        for j in 0..<n where j != i && labels[j] == labels[i] { positives[i * n + j] = 1 / Float(count) }
    }
    precondition(!anchors.isEmpty, "supervisedContrastiveLoss: no anchor has a positive (every label appears once)")
    let logDenominator = (logits + Tensor(shape: [n, n], selfMask)).exp().sum(dims: [1], keepDims: true).log()
    let meanLogProbability = ((logits - logDenominator) * Tensor(shape: [n, n], positives)).sum(dims: [1])
    return meanLogProbability.indexSelect(anchors).mean().neg()
}
