import ArgumentParser
import Dispatch
import Foundation
import Models
import NN
import Tensor

/// `vpeft bench-speed`: images/s of a ViT forward (and training steps) — the Swift half of
/// scripts/bench/compare_speed.py, which runs timm with the same settings and prints ratios.
struct BenchSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-speed",
        abstract: "Measure ViT inference / training-step speed; prints one JSON line per configuration.")

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case inference
        case trainFull = "train_full"
        case trainLinear = "train_linear"
    }

    @Option(help: "Model preset.") var model = "vit_base_patch16_224"
    @Option(parsing: .upToNextOption, help: "Batch sizes.") var batch: [Int] = [32, 8]
    @Option(parsing: .upToNextOption, help: "Modes: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")).") var mode: [Mode] = [.inference]
    @Option(help: "Threads for the engine and BLAS (default: all cores).") var threads: Int?
    @Option(help: "Untimed warm-up iterations.") var warmup = 1
    @Option(help: "Timed iterations (the mean is reported).") var iters = 3
    @Option(help: "Classes of the head.") var numClasses = 100

    func validate() throws {
        guard batch.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch values must be positive: \(batch)") }
        guard iters > 0, warmup >= 0 else { throw ValidationError("--iters must be > 0 and --warmup ≥ 0") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    func run() throws {
        if let threads { Parallel.setThreadCount(threads) }
        let vit = try VisionTransformer.load(model: model, numClasses: numClasses)
        var rng = SeededRandom(seed: 1)
        for m in mode {
            vit.setTrainable(m == .trainFull)
            if m == .trainLinear { vit.head?.setTrainable(true) }
            let optimizer = AdamW([ParameterGroup(vit.parameters.filter(\.requiresGrad), weightDecay: 0.05)], learningRate: 1e-4)
            for b in batch {
                let images = Tensor.normal([b, 3, vit.config.imgSize, vit.config.imgSize], using: &rng)
                let labels = (0..<b).map { $0 % numClasses }
                func step() {
                    if m == .inference {
                        _ = withoutGradients { vit(images) }
                    } else {
                        let logits = vit.forward(images, options: ForwardOptions(training: true)).logits!
                        crossEntropy(logits, targets: labels).backward()
                        optimizer.step()
                        optimizer.zeroGrad()
                    }
                }
                for _ in 0..<warmup { step() }
                BufferPool.shared.resetPeak()
                BLAS.profiling = true
                BLAS.profile = .init()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iters { step() }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(iters)
                BLAS.profiling = false
                let gemmShare = BLAS.profile.seconds / Double(iters) / seconds
                let record: [String: Any] = [
                    "framework": "vpeft", "model": model, "batch": b, "mode": m.rawValue, "threads": Parallel.threadCount,
                    "images_per_s": (Double(b) / seconds * 100).rounded() / 100, "ms_per_batch": (seconds * 1e4).rounded() / 10,
                    "peak_rss_mb": peakResidentMegabytes(), "peak_tensor_mb": BufferPool.shared.peakBytes >> 20,
                    "gemm_share": (gemmShare * 100).rounded() / 100,
                    "gemm_gflops": (BLAS.profile.flops / max(BLAS.profile.seconds, 1e-9) / 1e8).rounded() / 10,
                ]
                let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
                print(String(decoding: json, as: UTF8.self))
            }
        }
    }
}

/// The process's peak resident set (VmHWM) in MiB, from /proc (Linux); 0 elsewhere.
func peakResidentMegabytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}
