import Tensor
import XCTest

/// The oneDNN matmul backend computes what OpenBLAS computes, for every transpose, leading
/// dimension, alpha and beta the engine passes (products large enough to be routed to oneDNN).
final class GemmBackendTests: XCTestCase {
    func testOneDNNMatchesOpenBLAS() throws {
        let saved = BLAS.backend
        defer { BLAS.backend = saved }
        BLAS.backend = .onednn
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

    /// bf16: the product of the operands rounded to bfloat16 (nearest even), accumulated in fp32.
    func testBF16ProductsRoundTheOperands() throws {
        let (savedBackend, savedPrecision) = (BLAS.backend, BLAS.precision)
        defer { (BLAS.backend, BLAS.precision) = (savedBackend, savedPrecision) }
        BLAS.backend = .onednn
        BLAS.precision = .bf16
        var rng = SeededRandom(seed: 6)
        let (m, n, k) = (64, 72, 96)
        let a = Tensor.normal([m * k], using: &rng), b = Tensor.normal([n * k], using: &rng), c = Tensor.zeros([m * n])
        let before = BLAS.oneDNNProducts
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a.data, b: b.data, c: c.data)
        XCTAssertEqual(BLAS.oneDNNProducts - before, 1)
        func bf16(_ x: Float) -> Double {   // round to nearest even on the upper 16 bits
            let bits = x.bitPattern
            return Double(Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000))
        }
        var worstRounded = 0.0, worstExact = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var rounded = 0.0, exact = 0.0
                for p in 0..<k {
                    rounded += bf16(a.scalars[i * k + p]) * bf16(b.scalars[j * k + p])
                    exact += Double(a.scalars[i * k + p]) * Double(b.scalars[j * k + p])
                }
                worstRounded = max(worstRounded, Swift.abs(Double(c.scalars[i * n + j]) - rounded))
                worstExact = max(worstExact, Swift.abs(Double(c.scalars[i * n + j]) - exact))
            }
        }
        XCTAssertLessThan(worstRounded, 1e-4, "fp32 accumulation of the bf16-rounded operands")
        XCTAssertGreaterThan(worstExact, 1e-3, "and not the fp32 product")
    }

    /// In bf16 the fused attention rounds q, k, v (and dO, dS) once per sample group and hands the
    /// rounded copies to its products: output and gradient stay within bfloat16 error of fp32
    /// (a wrong offset into a rounded copy would be off by O(1)), grouped or not.
    func testFusedAttentionInBF16() throws {
        let (savedBackend, savedPrecision) = (BLAS.backend, BLAS.precision)
        defer { (BLAS.backend, BLAS.precision) = (savedBackend, savedPrecision) }
        BLAS.backend = .onednn
        var rng = SeededRandom(seed: 9)
        let (b, n, heads, dh) = (5, 48, 4, 16)
        let qkv = Tensor.normal([b, n, 3 * heads * dh], using: &rng), upstream = Tensor.normal([b, n, heads * dh], using: &rng)
        let twoSamples = 2 * heads * n * n * 4
        for scratch in [16 << 20, twoSamples] {
            var results: [(out: [Float], grad: [Float])] = []
            for precision in [BLAS.Precision.fp32, .bf16] {
                BLAS.precision = precision
                let x = qkv.copy()
                x.requiresGrad = true
                let before = BLAS.oneDNNProducts
                let out = fusedSelfAttention(x, heads: heads, scale: 0.25, scratchBytes: scratch)
                out.backward(upstream)
                XCTAssertGreaterThan(BLAS.oneDNNProducts, before)
                results.append((out.scalars, x.grad!.scalars))
            }
            for (name, exact, rounded) in [("output", results[0].out, results[1].out), ("gradient", results[0].grad, results[1].grad)] {
                let scale = exact.map(Swift.abs).max()!
                let worst = zip(exact, rounded).map { Swift.abs($0 - $1) }.max()! / scale
                XCTAssertLessThan(worst, 2e-2, "\(name), scratch \(scratch): within bfloat16 error")
                XCTAssertGreaterThan(worst, 1e-5, "\(name), scratch \(scratch): bfloat16 was used")
            }
        }
    }

    /// The fused self-attention (one batched product per step) gives the same output and qkv
    /// gradient on oneDNN as product by product on OpenBLAS, at a size that takes the oneDNN route.
    func testFusedAttentionIsTheSameOnBothBackends() throws {
        let saved = BLAS.backend
        defer { BLAS.backend = saved }
        var rng = SeededRandom(seed: 8)
        let qkv = Tensor.normal([3, 40, 3 * 4 * 16], using: &rng), upstream = Tensor.normal([3, 40, 4 * 16], using: &rng)
        var results: [(out: [Float], grad: [Float])] = []
        for backend in [BLAS.Backend.onednn, .openblas] {
            BLAS.backend = backend
            let x = qkv.copy()
            x.requiresGrad = true
            let before = BLAS.oneDNNProducts
            let out = fusedSelfAttention(x, heads: 4, scale: 0.25)
            out.backward(upstream)
            if backend == .onednn { XCTAssertEqual(BLAS.oneDNNProducts - before, 7, "2 forward + 5 backward batched products") }
            results.append((out.scalars, x.grad!.scalars))
        }
        for (a, b) in [(results[0].out, results[1].out), (results[0].grad, results[1].grad)] {
            XCTAssertLessThan(zip(a, b).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max()!, 1e-5)
        }
    }
}

