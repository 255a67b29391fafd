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

    // bf16 products run on one of two routes: native (oneDNN with the CPU's bfloat16
    // instructions) where the CPU has them, emulated (operands rounded by the engine, product in
    // fp32) everywhere. The numerics are asserted on every route that exists here; the native
    // tests are skipped, with the reason, on a CPU without bfloat16 instructions.

    func testBF16ProductsRoundTheOperandsNatively() throws {
        try XCTSkipUnless(Capabilities.current.bf16Products.isNative, "bf16 products on this machine: \(Capabilities.current.bf16Products)")
        try checkBF16Product(emulated: false, backend: .onednn)
    }

    func testBF16ProductsRoundTheOperandsWhenEmulated() throws {
        for backend in [BLAS.Backend.onednn, .openblas] { try checkBF16Product(emulated: true, backend: backend) }
    }

    func testFusedAttentionInBF16Natively() throws {
        try XCTSkipUnless(Capabilities.current.bf16Products.isNative, "bf16 products on this machine: \(Capabilities.current.bf16Products)")
        try checkFusedAttentionInBF16(emulated: false)
    }

    func testFusedAttentionInBF16WhenEmulated() throws { try checkFusedAttentionInBF16(emulated: true) }

    /// The product of the operands rounded to bfloat16 (nearest even), accumulated in fp32, on
    /// the route asked for (and only on it).
    private func checkBF16Product(emulated: Bool, backend: BLAS.Backend) throws {
        let saved = (BLAS.backend, BLAS.precision, BLAS.emulateBF16)
        defer { (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = saved }
        (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = (backend, .bf16, emulated)
        var rng = SeededRandom(seed: 6)
        let (m, n, k) = (64, 72, 96)
        let a = Tensor.normal([m * k], using: &rng), b = Tensor.normal([n * k], using: &rng), c = Tensor.zeros([m * n])
        let before = (BLAS.nativeBF16Products, BLAS.emulatedBF16Products)
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a.data, b: b.data, c: c.data)
        XCTAssertEqual(BLAS.nativeBF16Products - before.0, emulated ? 0 : 1, "native route taken: \(!emulated)")
        XCTAssertEqual(BLAS.emulatedBF16Products - before.1, emulated ? 1 : 0, "emulated route taken: \(emulated)")
        func bf16(_ x: Float) -> Double {   // round to nearest even on the upper 16 bits
            let bits = x.bitPattern
            return Double(Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000))
        }
        let (av, bv, cv) = (a.scalars, b.scalars, c.scalars)
        var worstRounded = 0.0, worstExact = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var rounded = 0.0, exact = 0.0
                for p in 0..<k {
                    rounded += bf16(av[i * k + p]) * bf16(bv[j * k + p])
                    exact += Double(av[i * k + p]) * Double(bv[j * k + p])
                }
                worstRounded = max(worstRounded, Swift.abs(Double(cv[i * n + j]) - rounded))
                worstExact = max(worstExact, Swift.abs(Double(cv[i * n + j]) - exact))
            }
        }
        XCTAssertLessThan(worstRounded, 1e-4, "fp32 accumulation of the bf16-rounded operands (emulated \(emulated), \(backend))")
        XCTAssertGreaterThan(worstExact, 1e-3, "and not the fp32 product (emulated \(emulated), \(backend))")
    }

    /// In bf16 the fused attention rounds q, k, v (and dO, dS) once per sample group and hands the
    /// rounded copies to its products: output and gradient stay within bfloat16 error of fp32
    /// (a wrong offset into a rounded copy would be off by O(1)), grouped or not.
    private func checkFusedAttentionInBF16(emulated: Bool) throws {
        let saved = (BLAS.backend, BLAS.precision, BLAS.emulateBF16)
        defer { (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = saved }
        (BLAS.backend, BLAS.emulateBF16) = (.onednn, emulated)
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
                let before = (BLAS.nativeBF16Products, BLAS.emulatedBF16Products)
                let out = fusedSelfAttention(x, heads: heads, scale: 0.25, scratchBytes: scratch)
                out.backward(upstream)
                let taken = (BLAS.nativeBF16Products - before.0, BLAS.emulatedBF16Products - before.1)
                if precision == .fp32 {
                    XCTAssertEqual(taken.0 + taken.1, 0, "fp32 takes no bf16 route")
                } else {
                    XCTAssertGreaterThan(emulated ? taken.1 : taken.0, 0, "bf16 products on the \(emulated ? "emulated" : "native") route")
                    XCTAssertEqual(emulated ? taken.0 : taken.1, 0, "and only on it")
                }
                results.append((out.scalars, x.grad!.scalars))
            }
            for (name, exact, rounded) in [("output", results[0].out, results[1].out), ("gradient", results[0].grad, results[1].grad)] {
                let scale = exact.map(Swift.abs).max()!
                let worst = zip(exact, rounded).map { Swift.abs($0 - $1) }.max()! / scale
                XCTAssertLessThan(worst, 2e-2, "\(name), scratch \(scratch), emulated \(emulated): within bfloat16 error")
                XCTAssertGreaterThan(worst, 1e-5, "\(name), scratch \(scratch), emulated \(emulated): bfloat16 was used")
            }
        }
    }

    /// Run records and logs say which route bf16 products take, and why they are emulated.
    func testProductsDescriptionNamesTheRoute() throws {
        let saved = (BLAS.backend, BLAS.precision, BLAS.emulateBF16)
        defer { (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = saved }
        BLAS.precision = .fp32
        XCTAssertEqual(BLAS.productsDescription, "fp32")
        (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = (.openblas, .bf16, false)
        XCTAssertTrue(BLAS.productsDescription.hasPrefix("bf16, emulated (large products on OpenBLAS"), BLAS.productsDescription)
        (BLAS.backend, BLAS.emulateBF16) = (.onednn, !Capabilities.current.bf16Products.isNative)
        let expected = Capabilities.current.bf16Products.isNative ? "bf16, native: oneDNN " : "bf16, emulated (\(Capabilities.current.bf16Products.reason))"
        XCTAssertTrue(BLAS.productsDescription.hasPrefix(expected), BLAS.productsDescription)
    }

    /// Both routes compute the same thing: a bf16 training-sized product natively and emulated
    /// agree to fp32 summation error (they differ only in the order of the sums).
    func testNativeAndEmulatedBF16Agree() throws {
        try XCTSkipUnless(Capabilities.current.bf16Products.isNative, "bf16 products on this machine: \(Capabilities.current.bf16Products)")
        let saved = (BLAS.backend, BLAS.precision, BLAS.emulateBF16)
        defer { (BLAS.backend, BLAS.precision, BLAS.emulateBF16) = saved }
        (BLAS.backend, BLAS.precision) = (.onednn, .bf16)
        var rng = SeededRandom(seed: 12)
        let (m, n, k) = (96, 80, 768)
        let a = Tensor.normal([m * k], using: &rng), b = Tensor.normal([k * n], using: &rng)
        var results: [[Float]] = []
        for emulated in [false, true] {
            BLAS.emulateBF16 = emulated
            let c = Tensor.zeros([m * n])
            BLAS.gemm(m: m, n: n, k: k, a: a.data, b: b.data, c: c.data)
            results.append(c.scalars)
        }
        let worst = zip(results[0], results[1]).map { Swift.abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-3, "native and emulated bf16 differ only in summation order (|c| ~ 28)")
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

