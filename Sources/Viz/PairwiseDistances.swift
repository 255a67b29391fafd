import Tensor

/// Squared Euclidean distances between rows of an n × d matrix, block by block through `gemm`
/// (‖a‖² + ‖b‖² − 2·a·b): t-SNE's affinities and the trustworthiness score need all (or the k
/// nearest) distances, and one matrix product per block is far faster than pairwise loops.
enum PairwiseDistances {
    /// Rows processed per `gemm` block: bounds the scratch memory at `blockRows · n` floats.
    static let blockRows = 256

    /// Calls `body(i, distances)` for every row i in order, with `distances[j]` = ‖x_i − x_j‖²
    /// (the diagonal is 0; small negative round-off is clamped to 0).
    static func forEachRow(of x: Tensor, _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
        precondition(x.rank == 2, "PairwiseDistances: expected an [n, d] matrix, got \(x.shape)")
        let n = x.shape[0], d = x.shape[1]
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var s: Float = 0
            for k in 0..<d { let v = x.data[i * d + k]; s += v * v }
            norms[i] = s
        }
        var block = [Float](repeating: 0, count: min(blockRows, n) * n)
        var start = 0
        while start < n {
            let rows = min(blockRows, n - start)
            block.withUnsafeMutableBufferPointer { out in
                BLAS.gemm(transB: true, m: rows, n: n, k: d, alpha: -2, a: x.data + start * d, b: x.data, c: out.baseAddress!)
                for r in 0..<rows {
                    let i = start + r
                    let row = out.baseAddress! + r * n
                    for j in 0..<n { row[j] = max(row[j] + norms[i] + norms[j], 0) }
                    row[i] = 0
                    body(i, UnsafeBufferPointer(start: row, count: n))
                }
            }
            start += rows
        }
    }

    /// The k nearest other rows of every row: indices (n · k, nearest first, ties by index)
    /// and their squared distances.
    static func nearestNeighbours(of x: Tensor, k: Int) -> (indices: [Int], squaredDistances: [Double]) {
        let n = x.shape[0]
        precondition(k < n, "nearestNeighbours: k \(k) must be below the number of points \(n)")
        var indices = [Int](repeating: 0, count: n * k)
        var distances = [Double](repeating: 0, count: n * k)
        forEachRow(of: x) { i, row in
            // Keep the k best seen so far in a sorted buffer; k is small (3 · perplexity).
            var best: [(distance: Float, index: Int)] = []
            best.reserveCapacity(k + 1)
            for j in 0..<n where j != i {
                let dj = row[j]
                if best.count == k, let worst = best.last, (dj, j) >= (worst.distance, worst.index) { continue }
                let position = best.firstIndex { ($0.distance, $0.index) > (dj, j) } ?? best.count
                best.insert((dj, j), at: position)
                if best.count > k { best.removeLast() }
            }
            for (slot, neighbour) in best.enumerated() {
                indices[i * k + slot] = neighbour.index
                distances[i * k + slot] = Double(neighbour.distance)
            }
        }
        return (indices, distances)
    }
}
