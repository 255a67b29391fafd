import COpenBLAS
import Dispatch
import Foundation

/// The single entry point for matrix products: row-major `C = alpha·op(A)·op(B) + beta·C` with
/// transposes passed to the backend (never materialised). Two backends: oneDNN's matmul
/// (`Backend.onednn`, the default when libdnnl starts) for the large products, OpenBLAS for the
/// small ones and for products issued from our own parallel loops (attention heads); set
/// `VPEFT_GEMM=openblas` to use OpenBLAS throughout. In bf16 precision the large products take
/// bfloat16-rounded operands on either backend: natively on oneDNN where the CPU has bfloat16
/// instructions, emulated (rounded here, multiplied in fp32) everywhere else.
public enum BLAS {
    public enum Backend: String, Sendable {
        case openblas, onednn
    }

    /// The backend of the large products.
    nonisolated(unsafe) public static var backend: Backend = {
        if ProcessInfo.processInfo.environment["VPEFT_GEMM"] == "openblas" { return .openblas }
        return OneDNN.isAvailable ? .onednn : .openblas
    }()

    /// The arithmetic of the large products: fp32, or bf16 operands with fp32 accumulation
    /// (trainable tensors and optimiser state stay fp32 either way).
    public enum Precision: String, Sendable, CaseIterable {
        case fp32, bf16
    }
    nonisolated(unsafe) public static var precision = Precision.fp32

    /// Whether bf16 products are emulated (operands rounded here, product in fp32) rather than
    /// run on oneDNN's bfloat16 instructions: true wherever the CPU lacks them
    /// (`Capabilities.current.bf16Products`). Setting it on a capable CPU gives the emulated route
    /// (tests compare the two); clearing it where the CPU lacks them still emulates.
    nonisolated(unsafe) public static var emulateBF16 = !Capabilities.current.bf16Products.isNative

    /// What the large products do in the current precision, for run records and logs: "fp32",
    /// "bf16, native: oneDNN …" or "bf16, emulated (why): …".
    public static var productsDescription: String {
        guard precision == .bf16 else { return "fp32" }
        let capability = Capabilities.current.bf16Products
        if !emulateBF16, backend == .onednn, case .native(let implementation) = capability { return "bf16, native: oneDNN \(implementation)" }
        let reason = backend != .onednn ? "large products on OpenBLAS (VPEFT_GEMM=openblas)"
            : capability.isNative ? "emulation chosen (BLAS.emulateBF16)" : capability.reason
        return "bf16, emulated (\(reason)): operands rounded to bfloat16 and multiplied in fp32, the numerics of native bf16 without its speed-up"
    }

    /// Products computed with bfloat16 operands, by route (tests check which route ran).
    nonisolated(unsafe) public private(set) static var nativeBF16Products = 0
    nonisolated(unsafe) public private(set) static var emulatedBF16Products = 0

    /// Below this many multiply-adds a product goes to OpenBLAS (oneDNN's per-call overhead).
    static let oneDNNMinimumWork = 1 << 18

    /// Products oneDNN has computed (tests check the route is taken).
    nonisolated(unsafe) public private(set) static var oneDNNProducts = 0

    /// True while `singleThreaded` runs: products then come from our worker threads.
    nonisolated(unsafe) private static var insideParallelRegion = false

    public static func setThreadCount(_ n: Int) {
        openblas_set_num_threads(Int32(n))
        OneDNN.setThreadCount(n)
    }
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
    public static var configuration: String { String(cString: openblas_get_config()) }
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Time and work spent in `gemm` while `profiling` is on (benchmarks report the share of a
    /// step spent in matrix products).
    public struct Profile: Sendable {
        public var calls = 0
        public var seconds = 0.0
        public var flops = 0.0
        public init() {}
    }
    nonisolated(unsafe) public static var profiling = false
    nonisolated(unsafe) public static var profile = Profile()

    /// Runs `body` with BLAS on one thread, so that our own threads can each call `gemm` on
    /// small independent products (attention heads) without nesting two thread pools.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        let budget = Parallel.threadCount
        setThreadCount(1)
        insideParallelRegion = true
        defer {
            insideParallelRegion = false
            setThreadCount(budget)
        }
        return try body()
    }

    /// `C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C`, all row-major.
    /// `lda`/`ldb`/`ldc` default to the packed row lengths. `roundedA` / `roundedB`: the operands
    /// already rounded to bfloat16, used when the product goes to oneDNN in bf16.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                            b: UnsafePointer<Float>, ldb: Int? = nil,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                            roundedA: UnsafePointer<UInt16>? = nil, roundedB: UnsafePointer<UInt16>? = nil) {
        guard m > 0, n > 0 else { return }
        _ = Parallel.threadCount  // applies the shared thread budget to BLAS on first use
        if k == 0 {
            // BLAS leaves C untouched (times beta) when k = 0; make that explicit.
            for i in 0..<(m * (ldc ?? n)) { c[i] = beta == 0 ? 0 : c[i] * beta }
            return
        }
        let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        defer { account(since: start, products: 1, m: m, n: n, k: k) }
        let (lda, ldb, ldc) = (lda ?? (transA ? m : k), ldb ?? (transB ? k : n), ldc ?? n)
        let large = !insideParallelRegion && m * n * k >= oneDNNMinimumWork
        if large, precision == .bf16 {
            if !emulateBF16, backend == .onednn,
               OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                           bf16: true, roundedA: roundedA, roundedB: roundedB) {
                oneDNNProducts += 1
                nativeBF16Products += 1
                return
            }
            emulatedBF16Products += 1
            let a16 = BFloat16.roundedFloats(a, given: roundedA, count: BFloat16.span(rows: transA ? k : m, ld: lda, columns: transA ? m : k))
            let b16 = BFloat16.roundedFloats(b, given: roundedB, count: BFloat16.span(rows: transB ? n : k, ld: ldb, columns: transB ? k : n))
            withExtendedLifetime((a16, b16)) {
                fp32Product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16.data, lda: lda, b: b16.data, ldb: ldb,
                            beta: beta, c: c, ldc: ldc, large: true)
            }
            return
        }
        fp32Product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, large: large)
    }

    /// One fp32 product: oneDNN for a large one (when it is the backend and accepts the case),
    /// else OpenBLAS.
    private static func fp32Product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, large: Bool) {
        if large, backend == .onednn,
           OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc) {
            oneDNNProducts += 1
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// A grid of products `C[i,j] = alpha·op(A[i,j])·op(B[i,j]) + beta·C[i,j]` over
    /// `batch.0 × batch.1` (attention: samples × heads), the operands of product (i, j) at
    /// `i·strides.0 + j·strides.1` from `a`, `b`, `c`. One oneDNN call when the whole grid is large
    /// enough, else the products one by one on our threads (OpenBLAS single-threaded each).
    /// `roundedA` / `roundedB`: the operands already rounded to bfloat16 (see `roundedOperand`),
    /// used when the grid goes to oneDNN in bf16.
    public static func batchedGemm(batch: (Int, Int), transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, aStrides: (Int, Int),
                                   b: UnsafePointer<Float>, ldb: Int, bStrides: (Int, Int),
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: (Int, Int),
                                   roundedA: UnsafePointer<UInt16>? = nil, roundedB: UnsafePointer<UInt16>? = nil) {
        let count = batch.0 * batch.1
        guard count > 0, m > 0, n > 0 else { return }
        _ = Parallel.threadCount
        let large = !insideParallelRegion && k > 0 && count * m * n * k >= oneDNNMinimumWork
        let grid = [batch.0, batch.1]
        if large, precision == .bf16 {
            let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            if !emulateBF16, backend == .onednn,
               OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                           bf16: true, roundedA: roundedA, roundedB: roundedB, batch: grid, aBatchStrides: [aStrides.0, aStrides.1],
                           bBatchStrides: [bStrides.0, bStrides.1], cBatchStrides: [cStrides.0, cStrides.1]) {
                oneDNNProducts += 1
                nativeBF16Products += 1
                account(since: start, products: count, m: m, n: n, k: k)
                return
            }
            emulatedBF16Products += 1
            let a16 = BFloat16.roundedFloats(a, given: roundedA, count: BFloat16.span(rows: transA ? k : m, ld: lda, columns: transA ? m : k,
                                                                                    batch: grid, strides: [aStrides.0, aStrides.1]))
            let b16 = BFloat16.roundedFloats(b, given: roundedB, count: BFloat16.span(rows: transB ? n : k, ld: ldb, columns: transB ? k : n,
                                                                                    batch: grid, strides: [bStrides.0, bStrides.1]))
            withExtendedLifetime((a16, b16)) {
                fp32Grid(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16.data, lda: lda, aStrides: aStrides,
                         b: b16.data, ldb: ldb, bStrides: bStrides, beta: beta, c: c, ldc: ldc, cStrides: cStrides, large: true)
            }
            return
        }
        fp32Grid(batch: batch, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, aStrides: aStrides,
                 b: b, ldb: ldb, bStrides: bStrides, beta: beta, c: c, ldc: ldc, cStrides: cStrides, large: large)
    }

    /// A grid of fp32 products: one oneDNN call for a large grid (when it is the backend and
    /// accepts the case), else product by product on our threads.
    private static func fp32Grid(batch: (Int, Int), transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                 a: UnsafePointer<Float>, lda: Int, aStrides: (Int, Int), b: UnsafePointer<Float>, ldb: Int, bStrides: (Int, Int),
                                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, cStrides: (Int, Int), large: Bool) {
        let count = batch.0 * batch.1
        if large, backend == .onednn {
            let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            if OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                           batch: [batch.0, batch.1], aBatchStrides: [aStrides.0, aStrides.1],
                           bBatchStrides: [bStrides.0, bStrides.1], cBatchStrides: [cStrides.0, cStrides.1]) {
                oneDNNProducts += 1
                account(since: start, products: count, m: m, n: n, k: k)
                return
            }
        }
        singleThreaded {
            Parallel.chunks(count, grain: 1) { range in
                for p in range {
                    let (i, j) = (p / batch.1, p % batch.1)
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                         a: a + i * aStrides.0 + j * aStrides.1, lda: lda, b: b + i * bStrides.0 + j * bStrides.1, ldb: ldb,
                         beta: beta, c: c + i * cStrides.0 + j * cStrides.1, ldc: ldc)
                }
            }
        }
    }

    /// `count` floats from `source` rounded to bfloat16 once, for several bf16 products that read
    /// them (attention reads q, k and v of one qkv tensor in five products); nil unless products
    /// run in bf16. Keep the buffer alive while its pointer is in use.
    static func roundedOperand(_ source: UnsafePointer<Float>, count: Int) -> BFloat16.Buffer? {
        guard precision == .bf16, !insideParallelRegion else { return nil }
        return BFloat16.rounded(source, count: count)
    }

    /// Adds a call's time and work to `profile` when profiling.
    private static func account(since start: UInt64, products: Int, m: Int, n: Int, k: Int) {
        guard profiling else { return }
        profile.calls += 1
        profile.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        profile.flops += 2 * Double(products) * Double(m) * Double(n) * Double(k)
    }
}

