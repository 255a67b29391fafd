import Dispatch
import Foundation

/// The engine's worker threads: one fixed budget, shared with BLAS (which runs only between
/// parallel loops, never inside one, so the two never oversubscribe the cores).
public enum Parallel {
    /// Threads used by elementwise/row-wise kernels and handed to BLAS (`VPEFT_THREADS`, else
    /// all cores). BLAS gets the same number the first time either is used.
    nonisolated(unsafe) public private(set) static var threadCount: Int = {
        var n = ProcessInfo.processInfo.activeProcessorCount
        if let env = ProcessInfo.processInfo.environment["VPEFT_THREADS"], let value = Int(env), value > 0 { n = value }
        BLAS.setThreadCount(n)
        return n
    }()

    /// Sets the thread budget for our kernels and for BLAS together.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "Parallel.setThreadCount: need at least 1 thread, got \(n)")
        threadCount = n
        BLAS.setThreadCount(n)
    }

    /// Splits `0..<count` into at most `threadCount` contiguous chunks of at least `grain`
    /// items and runs `body` on each concurrently. Chunks are fixed by `count`, `grain` and the
    /// thread count only, so results are deterministic for reductions done per chunk.
    @inlinable
    public static func chunks(_ count: Int, grain: Int = 4096, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(threadCount, max(1, count / max(grain, 1)))
        if parts <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = count * p / parts, hi = count * (p + 1) / parts
            body(lo..<hi)
        }
    }
}
