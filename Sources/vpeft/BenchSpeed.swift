import ArgumentParser
import Dispatch
import Foundation
import Models
import NN
import PEFT
import Tensor

/// `vpeft bench-speed`: images/s of a backbone's forward (and training steps) — the Swift half of
/// scripts/bench/compare_speed.py, which runs timm with the same settings and prints ratios.
/// Any `--model` the loader takes (ViT, Swin, EfficientNet-Lite), random-init weights.
struct BenchSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-speed",
        abstract: "Measure a backbone's inference / training-step speed; prints one JSON line per configuration.")

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case inference
        case trainFull = "train_full"
        case trainLinear = "train_linear"
    }

    @Option(help: "Model preset (ViT, Swin or EfficientNet-Lite).") var model = "vit_base_patch16_224"
    @Option(parsing: .upToNextOption, help: "Batch sizes.") var batch: [Int] = [32, 8]
    @Option(parsing: .upToNextOption, help: "Modes: \(Mode.allCases.map(\.rawValue).joined(separator: ", ")) (default: inference, unless --methods is given).")
    var mode: [Mode] = []
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Untimed warm-up iterations.") var warmup = 1
    @Option(help: "Timed iterations (the mean is reported).") var iters = 3
    @Option(help: "Classes of the head.") var numClasses = 100
    @OptionGroup var arithmetic: PrecisionOptions
    @Option(parsing: .upToNextOption, help: "PEFT methods to time a training step of (mode train:<method>; default options, intended init).")
    var methods: [String] = []
    @Flag(help: "Recompute every MLP's fc1 → activation in the backward (activation checkpointing; ViT only).") var recomputeMLP = false

    func validate() throws {
        guard batch.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch values must be positive: \(batch)") }
        guard iters > 0, warmup >= 0 else { throw ValidationError("--iters must be > 0 and --warmup ≥ 0") }
        for name in methods { _ = try MethodRegistry.type(named: name) }
    }

    func run() throws {
        threading.apply()
        arithmetic.apply()
        var rng = SeededRandom(seed: 1)
        for m in mode.isEmpty && methods.isEmpty ? [.inference] : mode {
            let net = try backbone()
            net.setTrainable(m == .trainFull)
            if m == .trainLinear { net.head?.setTrainable(true) }
            let step = m == .inference ? nil : TrainingStep(parameters: net.parameters.filter(\.requiresGrad), classes: numClasses) { net.forward($0, options: ForwardOptions(training: true)).logits! }
            for b in batch {
                let images = Tensor.normal([b, 3, net.inputSize, net.inputSize], using: &rng)
                try measure(mode: m.rawValue, batch: b, trainable: step?.parameterCount ?? 0) {
                    if let step { step(images) } else { _ = withoutGradients { net.forward(images) } }
                }
            }
        }
        for name in methods {
            let peft = try PEFTModel(backbone: try backbone(), method: try MethodRegistry.method(named: name), classes: numClasses)
            let step = TrainingStep(parameters: peft.trainableTensors.map(\.tensor), classes: numClasses) {
                peft.forward($0, options: ForwardOptions(training: true)).logits!
            }
            for b in batch {
                let size = peft.backbone.inputSize
                let images = Tensor.normal([b, 3, size, size], using: &rng)
                try measure(mode: "train:\(name)", batch: b, trainable: peft.trainableParameterCount()) { step(images) }
            }
        }
    }

    /// A fresh random-init `--model` with a `--num-classes` head (a ViT recomputing its MLPs when asked).
    private func backbone() throws -> any Backbone {
        let net = try BackboneLoader.load(model: model, weights: nil, numClasses: numClasses)
        if recomputeMLP {
            guard let vit = net as? VisionTransformer else { throw ValidationError("--recompute-mlp is a ViT option; \(model) is \(net.architecture)") }
            vit.recomputesMLP = true
        }
        return net
    }

    /// Times `body` (warm-up, then the mean of `iters` runs) and prints the configuration's JSON line.
    private func measure(mode: String, batch b: Int, trainable: Int, _ body: () -> Void) throws {
        for _ in 0..<warmup { body() }
        BufferPool.shared.resetPeak()
        BLAS.profiling = true
        BLAS.profile = .init()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iters { body() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(iters)
        BLAS.profiling = false
        let gemmShare = BLAS.profile.seconds / Double(iters) / seconds
        let record: [String: Any] = [
            "framework": "vpeft", "model": model, "batch": b, "mode": mode, "threads": Parallel.threadCount, "precision": BLAS.precision.rawValue, "products": BLAS.productsDescription,
            "recompute_mlp": recomputeMLP,
            "images_per_s": (Double(b) / seconds * 100).rounded() / 100, "ms_per_batch": (seconds * 1e4).rounded() / 10,
            "peak_rss_mb": peakResidentMegabytes(), "peak_tensor_mb": BufferPool.shared.peakBytes >> 20,
            "gemm_share": (gemmShare * 100).rounded() / 100, "trainable_params": trainable,
            "gemm_gflops": (BLAS.profile.flops / max(BLAS.profile.seconds, 1e-9) / 1e8).rounded() / 10,
        ]
        let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}

/// One optimisation step: forward, cross-entropy against fixed labels, backward, AdamW.
struct TrainingStep {
    let optimizer: AdamW
    let classes: Int
    let forward: (Tensor) -> Tensor
    var parameterCount: Int { optimizer.parameters.reduce(0) { $0 + $1.count } }

    init(parameters: [Tensor], classes: Int, forward: @escaping (Tensor) -> Tensor) {
        optimizer = AdamW([ParameterGroup(parameters, weightDecay: 0.05)], learningRate: 1e-4)
        (self.classes, self.forward) = (classes, forward)
    }

    func callAsFunction(_ images: Tensor) {
        crossEntropy(forward(images), targets: (0..<images.shape[0]).map { $0 % classes }).backward()
        optimizer.step()
        optimizer.zeroGrad()
    }
}

/// The process's peak resident set (VmHWM) in MiB, from /proc (Linux); 0 elsewhere.
func peakResidentMegabytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kb / 1024
}
