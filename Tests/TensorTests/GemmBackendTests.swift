import Tensor
import XCTest

/// The oneDNN matmul backend computes what OpenBLAS computes, for every transpose, leading
/// dimension, alpha and beta the engine passes (products large enough to be routed to oneDNN).
final class GemmBackendTests: XCTestCase {
    func testOneDNNMatchesOpenBLAS() throws {
        let saved = BLAS.backend
        defer { BLAS.backend = saved }
        BLAS.backend = .onednn
        try XCTSkipIf(BLAS.backend != .onednn, "oneDNN not available")
        var rng = SeededRandom(seed: 4)
        let before = BLAS.oneDNNProducts
        let (m, n, k, pad) = (70, 80, 60, 3)
        for transA in [false, true] {
            for transB in [false, true] {
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0.7)] {
                    let (lda, ldb, ldc) = ((transA ? m : k) + pad, (transB ? k : n) + pad, n + pad)
                    let a = Tensor.normal([(transA ? k : m) * lda], using: &rng), b = Tensor.normal([(transB ? n : k) * ldb], using: &rng)
                    let c0 = Tensor.normal([m * ldc], using: &rng)
                    var results: [[Float]] = []
                    for backend in [BLAS.Backend.onednn, .openblas] {
                        BLAS.backend = backend
                        let c = c0.copy()
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.data, lda: lda,
                                  b: b.data, ldb: ldb, beta: beta, c: c.data, ldc: ldc)
                        results.append(c.scalars)
                    }
                    let worst = zip(results[0], results[1]).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max()!
                    XCTAssertLessThan(worst, 1e-5, "transA \(transA) transB \(transB) alpha \(alpha) beta \(beta)")
                    // The padding columns of C are left alone.
                    for row in 0..<m { for j in n..<ldc { XCTAssertEqual(results[0][row * ldc + j], c0.scalars[row * ldc + j]) } }
                }
            }
        }
        XCTAssertEqual(BLAS.oneDNNProducts - before, 8, "every product above took the oneDNN route")
    }
}
