import Foundation
import Tensor

/// Projections of data onto their leading principal components, for t-SNE's PCA
/// initialisation. Works on whichever of the d × d covariance or the n × n Gram matrix is
/// smaller (same components), finds the top eigenvectors by orthogonal iteration from a fixed
/// start, and fixes each component's sign (largest-magnitude projection positive, like
/// scikit-learn's `svd_flip`) so the result is reproducible.
enum PrincipalComponents {
    /// n × components projections, row-major.
    static func project(_ x: Tensor, components: Int) -> [Double] {
        let n = x.shape[0], d = x.shape[1]
        var centered = [Float](repeating: 0, count: n * d)
        for k in 0..<d {
            var mean = 0.0
            for i in 0..<n { mean += Double(x.data[i * d + k]) }
            mean /= Double(n)
            for i in 0..<n { centered[i * d + k] = Float(Double(x.data[i * d + k]) - mean) }
        }
        let useGram = n < d
        let m = useGram ? n : d
        var product = [Float](repeating: 0, count: m * m)   // Xc·Xcᵀ (n × n) or Xcᵀ·Xc (d × d)
        centered.withUnsafeBufferPointer { c in
            product.withUnsafeMutableBufferPointer { out in
                if useGram {
                    BLAS.gemm(transB: true, m: n, n: n, k: d, a: c.baseAddress!, b: c.baseAddress!, c: out.baseAddress!)
                } else {
                    BLAS.gemm(transA: true, m: d, n: d, k: n, a: c.baseAddress!, b: c.baseAddress!, c: out.baseAddress!)
                }
            }
        }
        let matrix = product.map(Double.init)
        let vectors = topEigenvectors(matrix, size: m, count: min(components, m))
        var projections = [Double](repeating: 0, count: n * components)
        for c in 0..<vectors.count {
            let v = vectors[c]
            var column = [Double](repeating: 0, count: n)
            if useGram {
                // Gram eigenvector u with eigenvalue λ: projections are u · √λ.
                var lambda = 0.0
                for a in 0..<m { var s = 0.0; for b in 0..<m { s += matrix[a * m + b] * v[b] }; lambda += v[a] * s }
                for i in 0..<n { column[i] = v[i] * max(lambda, 0).squareRoot() }
            } else {
                for i in 0..<n { var s = 0.0; for k in 0..<d { s += Double(centered[i * d + k]) * v[k] }; column[i] = s }
            }
            let largest = column.max { abs($0) < abs($1) } ?? 0
            let sign: Double = largest < 0 ? -1 : 1
            for i in 0..<n { projections[i * components + c] = sign * column[i] }
        }
        return projections
    }

    /// Orthogonal iteration on a symmetric positive semi-definite matrix: multiply, then
    /// Gram–Schmidt, until the vectors stop moving (or 500 rounds; near-equal eigenvalues then
    /// leave some vector of their common subspace, which is as good a start for t-SNE).
    private static func topEigenvectors(_ matrix: [Double], size m: Int, count: Int) -> [[Double]] {
        var random = SeededRandom(seed: 0x7C5E)
        var vectors = (0..<count).map { _ in (0..<m).map { _ in Double(random.nextNormal()) } }
        orthonormalise(&vectors)
        for _ in 0..<500 {
            var next = vectors.map { v in
                (0..<m).map { a in
                    var s = 0.0
                    for b in 0..<m { s += matrix[a * m + b] * v[b] }
                    return s
                }
            }
            orthonormalise(&next)
            var change = 0.0
            for (new, old) in zip(next, vectors) { change = max(change, 1 - abs(dot(new, old))) }
            vectors = next
            if change < 1e-12 { break }
        }
        return vectors
    }

    private static func orthonormalise(_ vectors: inout [[Double]]) {
        for c in 0..<vectors.count {
            for previous in 0..<c {
                let overlap = dot(vectors[c], vectors[previous])
                for k in 0..<vectors[c].count { vectors[c][k] -= overlap * vectors[previous][k] }
            }
            let norm = dot(vectors[c], vectors[c]).squareRoot()
            if norm > 0 { vectors[c] = vectors[c].map { $0 / norm } }
        }
    }

    private static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in 0..<a.count { s += a[k] * b[k] }
        return s
    }
}
