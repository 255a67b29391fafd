import ArgumentParser
import COpenBLAS
import Dispatch
import Foundation
import Tensor

/// `vpeft bench-engine`: the engine's kernels at ViT-B/16 sizes (batch 32 → 6,304 tokens).
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-engine",
        abstract: "Benchmark the tensor engine's kernels at ViT-B/16 shapes (release builds only).",
        discussion: """
        Reports: gemm through the engine versus raw cblas_sgemm (forward and the transposed \
        backward variants), LayerNorm / softmax / GELU / attention time and bandwidth, and one \
        ViT-B transformer block forward+backward with its share of time in gemm.
        """)

    @Option(help: "Images per batch (tokens = batch × 197).") var batch = 32
    @Option(help: "Timed repetitions per measurement (the median is reported).") var repeats = 5
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var arithmetic: PrecisionOptions
    @Flag(help: "Small sizes and one repetition: a smoke run, not a measurement.") var quick = false

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be positive, got \(batch)") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
    }

    func run() throws {
        arithmetic.apply()
        threading.apply()
        let batch = quick ? 2 : batch, repeats = quick ? 1 : repeats
        let tokens = 197, m = batch * tokens
        #if DEBUG
        print("warning: debug build — timings are meaningless; use `swift build -c release`")
        #endif
        print("engine benchmark: batch \(batch) (M = \(m) rows), \(Parallel.threadCount) threads, OpenBLAS \(BLAS.coreName), median of \(repeats)")
        var rng = SeededRandom(seed: 0)

        print("\n## gemm: engine vs raw cblas_sgemm")
        print("| product | M×N×K | raw GFLOP/s | engine GFLOP/s | engine/raw |")
        print("|---|---|---|---|---|")
        let shapes: [(String, Int, Int)] = [("qkv", 768, 2304), ("proj", 768, 768), ("fc1", 768, 3072), ("fc2", 3072, 768)]
        for (name, k, n) in shapes {
            let x = Tensor.normal([m, k], using: &rng), w = Tensor.normal([n, k], std: 0.02, using: &rng)
            let dy = Tensor.normal([m, n], using: &rng)
            let out = Tensor(uninitializedShape: [m, n]), dx = Tensor(uninitializedShape: [m, k]), dw = Tensor(uninitializedShape: [n, k])
            // Forward: y = x·Wᵀ ; backward: dx = dy·W ; dW = dyᵀ·x.
            let variants: [(String, Int, Int, Int, () -> Void, () -> Void)] = [
                ("\(name) forward x·Wᵀ", m, n, k,
                 { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, x.data, Int32(k), w.data, Int32(k), 0, out.data, Int32(n)) },
                 { _ = linear(x, w) }),
                ("\(name) backward dy·W", m, k, n,
                 { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(k), Int32(n), 1, dy.data, Int32(n), w.data, Int32(k), 0, dx.data, Int32(k)) },
                 { _ = matmul(dy, w) }),
                ("\(name) backward dyᵀ·x", n, k, m,
                 { cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(k), Int32(m), 1, dy.data, Int32(n), x.data, Int32(k), 0, dw.data, Int32(k)) },
                 { _ = matmul(dy, x, transposeA: true) }),
            ]
            for (label, mm, nn, kk, raw, engine) in variants {
                let flops = 2 * Double(mm) * Double(nn) * Double(kk)
                let tRaw = median(repeats, raw), tEngine = median(repeats, engine)
                print("| \(label) | \(mm)×\(nn)×\(kk) | \(f1(flops / tRaw / 1e9)) | \(f1(flops / tEngine / 1e9)) | \(f2(tRaw / tEngine)) |")
            }
        }

        print("\n## row-wise and elementwise kernels")
        print("| op | shape | forward ms | forward GB/s | backward ms | backward GB/s |")
        print("|---|---|---|---|---|---|")
        let d = 768
        let x = Tensor.normal([m, d], using: &rng).trainable(), gamma = Tensor.ones([d]).trainable(), beta = Tensor.zeros([d]).trainable()
        report("layerNorm", [m, d], bytesForward: 2 * m * d * 4, bytesBackward: 3 * m * d * 4) { layerNorm(x, weight: gamma, bias: beta, eps: 1e-6) }
        let h = Tensor.normal([m, 3072], using: &rng).trainable()
        report("gelu", [m, 3072], bytesForward: 2 * m * 3072 * 4, bytesBackward: 3 * m * 3072 * 4) { h.gelu() }
        let s = Tensor.normal([batch * 12 * tokens, tokens], using: &rng).trainable()
        report("softmax", s.shape, bytesForward: 2 * s.count * 4, bytesBackward: 3 * s.count * 4) { s.softmax() }
        let q = Tensor.normal([batch, 12, tokens, 64], using: &rng).trainable()
        let kk = Tensor.normal([batch, 12, tokens, 64], using: &rng).trainable(), v = Tensor.normal([batch, 12, tokens, 64], using: &rng).trainable()
        report("attention", q.shape, bytesForward: (4 * q.count + batch * 12 * tokens * tokens) * 4,
               bytesBackward: (7 * q.count + 2 * batch * 12 * tokens * tokens) * 4) { attention(q, kk, v, scale: 0.125) }

        print("\n## one ViT-B transformer block, frozen weights, trainable input")
        let block = BenchmarkBlock(rng: &rng)
        let input = Tensor.normal([batch, tokens, d], using: &rng).trainable()
        BLAS.profiling = true
        var shares: [Double] = []
        let t = median(repeats) {
            BLAS.profile = .init()
            let start = DispatchTime.now().uptimeNanoseconds
            let y = block(input)
            y.backward(Tensor.ones(y.shape))
            input.grad = nil
            shares.append(BLAS.profile.seconds / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
        }
        BLAS.profiling = false
        let flops = 3 * 2 * Double(m) * 768 * (2304 + 768 + 3072 + 3072) - 2 * Double(m) * 768 * 9216 // no weight grads: 2× forward
        print("forward+backward: \(f1(t * 1000)) ms (\(f1(Double(batch) / t)) images/s), share in gemm \(Int((shares.sorted()[shares.count / 2]) * 100))%, ≈\(f1(flops / t / 1e9)) GFLOP/s in linear layers")
        print("peak tensor memory: \(BufferPool.shared.peakBytes / (1 << 20)) MiB")
    }

    private func report(_ name: String, _ shape: [Int], bytesForward: Int, bytesBackward: Int, _ op: () -> Tensor) {
        let forward = median(repeats) { _ = op() }
        var backwardTimes: [Double] = []
        for _ in 0...repeats {
            let y = op(), g = Tensor.ones(y.shape)
            let start = DispatchTime.now().uptimeNanoseconds
            y.backward(g)
            backwardTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let backward = backwardTimes.dropFirst().sorted()[repeats / 2]
        print("| \(name) | \(shape) | \(f2(forward * 1000)) | \(f1(Double(bytesForward) / forward / 1e9)) | \(f2(backward * 1000)) | \(f1(Double(bytesBackward) / backward / 1e9)) |")
    }
}

/// Median wall time in seconds of `repeats` runs after one warm-up.
func median(_ repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return times.sorted()[times.count / 2]
}

func f1(_ x: Double) -> String { String(format: "%.1f", x) }
func f2(_ x: Double) -> String { String(format: "%.2f", x) }

/// A pre-LN ViT-B block written directly with engine ops (dim 768, 12 heads, MLP 3072).
struct BenchmarkBlock {
    let norm1w, norm1b, qkvW, qkvB, projW, projB, norm2w, norm2b, fc1W, fc1B, fc2W, fc2B: Tensor

    init(rng: inout SeededRandom) {
        func w(_ shape: [Int]) -> Tensor { Tensor.normal(shape, std: 0.02, using: &rng) }
        (norm1w, norm1b, norm2w, norm2b) = (Tensor.ones([768]), Tensor.zeros([768]), Tensor.ones([768]), Tensor.zeros([768]))
        (qkvW, qkvB, projW, projB) = (w([2304, 768]), w([2304]), w([768, 768]), w([768]))
        (fc1W, fc1B, fc2W, fc2B) = (w([3072, 768]), w([3072]), w([768, 3072]), w([768]))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, n) = (x.shape[0], x.shape[1])
        let qkv = linear(layerNorm(x, weight: norm1w, bias: norm1b, eps: 1e-6), qkvW, qkvB)
            .reshaped([b, n, 3, 12, 64]).permuted([2, 0, 3, 1, 4])
        let parts = qkv.chunked(3, dim: 0).map { $0.reshaped([b, 12, n, 64]) }
        let a = attention(parts[0], parts[1], parts[2], scale: 0.125).permuted([0, 2, 1, 3]).reshaped([b, n, 768])
        let x1 = x + linear(a, projW, projB)
        return x1 + linear(linear(layerNorm(x1, weight: norm2w, bias: norm2b, eps: 1e-6), fc1W, fc1B).gelu(), fc2W, fc2B)
    }
}
