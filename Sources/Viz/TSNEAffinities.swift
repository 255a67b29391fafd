import Foundation
import Tensor

/// The input-space similarities t-SNE matches: for each point a Gaussian over its neighbours
/// whose bandwidth is found by binary search so the distribution's perplexity equals the
/// target; then symmetrised, P = (P_j|i + P_i|j) / Σ, as in van der Maaten's reference code.
/// Dense (all pairs) for exact t-SNE, sparse over the ⌊3·perplexity⌋ nearest neighbours for
/// Barnes-Hut.
public enum TSNEAffinities {
    case dense([Double])                                     // n × n, row-major
    case sparse(rowStart: [Int], columns: [Int], values: [Double])  // CSR, symmetric

    public static func dense(_ x: Tensor, perplexity: Double) -> TSNEAffinities {
        let n = x.shape[0]
        var conditional = [Double](repeating: 0, count: n * n)
        var others = [Double](repeating: 0, count: n - 1)
        PairwiseDistances.forEachRow(of: x) { i, row in
            var slot = 0
            for j in 0..<n where j != i { others[slot] = Double(row[j]); slot += 1 }
            let p = conditionalDistribution(squaredDistances: others, perplexity: perplexity)
            slot = 0
            for j in 0..<n where j != i { conditional[i * n + j] = p[slot]; slot += 1 }
        }
        var symmetric = [Double](repeating: 0, count: n * n)
        var total = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let v = conditional[i * n + j] + conditional[j * n + i]
                symmetric[i * n + j] = v
                total += v
            }
        }
        return .dense(symmetric.map { $0 / total })
    }

    public static func sparse(_ x: Tensor, perplexity: Double) -> TSNEAffinities {
        let n = x.shape[0]
        let k = min(n - 1, Int(3 * perplexity))
        let (indices, distances) = PairwiseDistances.nearestNeighbours(of: x, k: k)
        // Entries (i, j, p) and their transposes, merged after sorting: P + Pᵀ on the union of
        // the two neighbourhoods.
        var entries: [(row: Int, column: Int, value: Double)] = []
        entries.reserveCapacity(2 * n * k)
        for i in 0..<n {
            let p = conditionalDistribution(squaredDistances: Array(distances[(i * k)..<((i + 1) * k)]), perplexity: perplexity)
            for slot in 0..<k {
                let j = indices[i * k + slot]
                entries.append((i, j, p[slot]))
                entries.append((j, i, p[slot]))
            }
        }
        entries.sort { ($0.row, $0.column) < ($1.row, $1.column) }
        var rowStart = [0]          // rowStart[r] = first entry of row r; rowStart[n] = count
        var columns: [Int] = [], values: [Double] = []
        var total = 0.0
        for entry in entries {
            total += entry.value
            while rowStart.count <= entry.row { rowStart.append(columns.count) }
            if columns.count > rowStart[entry.row], columns.last == entry.column {
                values[values.count - 1] += entry.value
            } else {
                columns.append(entry.column)
                values.append(entry.value)
            }
        }
        while rowStart.count <= n { rowStart.append(columns.count) }
        return .sparse(rowStart: rowStart, columns: columns, values: values.map { $0 / total })
    }

    /// p_j ∝ exp(−β·d_j) with β searched (bisection on the entropy, tolerance 1e-5, at most 200
    /// steps as the reference) so that exp(H) = perplexity. Distances are shifted by their
    /// minimum first, which leaves p unchanged and keeps exp from underflowing.
    public static func conditionalDistribution(squaredDistances d: [Double], perplexity: Double) -> [Double] {
        let target = log(perplexity)
        let nearest = d.min() ?? 0
        let shifted = d.map { $0 - nearest }
        let meanShift = shifted.reduce(0, +) / Double(max(shifted.count, 1))
        var beta = meanShift > 0 ? 1 / meanShift : 1
        var betaLow = -Double.infinity, betaHigh = Double.infinity
        var p = [Double](repeating: 0, count: d.count)
        for _ in 0..<200 {
            var sum = 0.0, weighted = 0.0
            for j in 0..<d.count {
                p[j] = exp(-beta * shifted[j])
                sum += p[j]
                weighted += shifted[j] * p[j]
            }
            let entropy = log(sum) + beta * weighted / sum
            let difference = entropy - target
            for j in 0..<d.count { p[j] /= sum }
            if abs(difference) < 1e-5 { break }
            if difference > 0 {
                betaLow = beta
                beta = betaHigh.isInfinite ? beta * 2 : (beta + betaHigh) / 2
            } else {
                betaHigh = beta
                beta = betaLow.isInfinite ? beta / 2 : (beta + betaLow) / 2
            }
        }
        return p
    }
}
