import COpenBLAS
import Dispatch
import Foundation

/// The single entry point for matrix products: row-major `C = alpha·op(A)·op(B) + beta·C` with
/// transposes passed to the backend (never materialised). Two backends: oneDNN's matmul
/// (`Backend.onednn`, the default when libdnnl starts) for the large products, OpenBLAS for the
/// small ones and for products issued from our own parallel loops (attention heads); set
/// `VPEFT_GEMM=openblas` to use OpenBLAS throughout.
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
    /// (oneDNN only; trainable tensors and optimiser state stay fp32 either way).
    public enum Precision: String, Sendable, CaseIterable {
        case fp32, bf16
    }
    nonisolated(unsafe) public static var precision = Precision.fp32

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
        if backend == .onednn, !insideParallelRegion, m * n * k >= oneDNNMinimumWork,
           OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                       bf16: precision == .bf16, roundedA: roundedA, roundedB: roundedB) {
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
        if backend == .onednn, !insideParallelRegion, k > 0, count * m * n * k >= oneDNNMinimumWork {
            let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
            if OneDNN.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                           bf16: precision == .bf16, roundedA: roundedA, roundedB: roundedB, batch: [batch.0, batch.1], aBatchStrides: [aStrides.0, aStrides.1],
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
    /// run on oneDNN in bf16. Keep the buffer alive while its pointer is in use.
    static func roundedOperand(_ source: UnsafePointer<Float>, count: Int) -> BFloat16.Buffer? {
        guard backend == .onednn, precision == .bf16, !insideParallelRegion else { return nil }
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

