import Tensor

/// How well an embedding keeps neighbourhoods, as scikit-learn's `trustworthiness`:
///     T(k) = 1 − 2 / (n·k·(2n − 3k − 1)) · Σ_i Σ_{j ∈ N_k^low(i)} max(0, r(i, j) − k),
/// where N_k^low(i) are i's k nearest neighbours in the embedding and r(i, j) is j's rank
/// (1 = nearest) among i's neighbours in the original space. 1 means every embedded neighbour
/// was also a near neighbour originally; points pulled in from far away lower it.
/// `high` is [n, d], `low` [n, d'] (usually d' = 2); k must be below n / 2.
public func trustworthiness(high: Tensor, low: Tensor, k: Int) -> Double {
    precondition(high.rank == 2 && low.rank == 2 && high.shape[0] == low.shape[0],
                 "trustworthiness: expected [n, d] and [n, d'] with the same n, got \(high.shape) and \(low.shape)")
    let n = high.shape[0]
    precondition(k >= 1 && Double(k) < Double(n) / 2, "trustworthiness: k = \(k) must be in 1..<n/2 (n = \(n))")
    // rank[i * n + j] = position of j in i's original-space neighbour order (1-based).
    var rank = [Int](repeating: 0, count: n * n)
    PairwiseDistances.forEachRow(of: high) { i, row in
        let order = (0..<n).filter { $0 != i }.sorted { (row[$0], $0) < (row[$1], $1) }
        for (position, j) in order.enumerated() { rank[i * n + j] = position + 1 }
    }
    let (embeddedNeighbours, _) = PairwiseDistances.nearestNeighbours(of: low, k: k)
    var penalty = 0
    for i in 0..<n {
        for slot in 0..<k {
            penalty += max(0, rank[i * n + embeddedNeighbours[i * k + slot]] - k)
        }
    }
    let nn = Double(n), kk = Double(k)
    return 1 - Double(penalty) * 2 / (nn * kk * (2 * nn - 3 * kk - 1))
}
