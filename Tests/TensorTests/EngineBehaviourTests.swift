import Tensor
import XCTest

/// Autodiff bookkeeping: what is saved, what is released, determinism, no-grad scopes.
final class EngineBehaviourTests: XCTestCase {
    /// A linear layer with a frozen weight must not keep its input alive; with a trainable
    /// weight it must (the weight gradient needs it).
    func testFrozenWeightDoesNotKeepInputAlive() {
        for weightTrains in [false, true] {
            var rng = SeededRandom(seed: 1)
            let leaf = Tensor.normal([4, 8], using: &rng).trainable()
            let weight = Tensor.normal([3, 8], using: &rng).trainable(weightTrains)
            weak var inputStorage: TensorStorage?
            var y: Tensor?
            do {
                let x = leaf * 2          // an activation: a non-leaf that requires grad
                inputStorage = x.storage
                y = linear(x, weight)
            }
            XCTAssertEqual(inputStorage != nil, weightTrains, "weight trains: \(weightTrains)")
            y!.sum().backward()
            XCTAssertNil(inputStorage, "saved tensors are released after backward")
            XCTAssertNotNil(leaf.grad)
            XCTAssertEqual(weight.grad != nil, weightTrains)
        }
    }

    /// Ops whose derivative is a constant (scaling, shifting, negation) keep no activation alive
    /// (LoRA's α/r scaling kept a [B, N, D] delta per target before this); GELU keeps its input.
    func testConstantDerivativeOpsKeepNothingAlive() {
        let ops: [(String, (Tensor) -> Tensor, Bool)] = [
            ("scaled", { $0 * 0.5 }, false), ("shifted", { $0 + 3 }, false), ("negated", { -$0 }, false), ("gelu", { $0.gelu() }, true),
        ]
        for (name, op, keeps) in ops {
            var rng = SeededRandom(seed: 2)
            let leaf = Tensor.normal([4, 8], using: &rng).trainable()
            weak var inputStorage: TensorStorage?
            var y: Tensor?
            do {
                let x = leaf + leaf      // an activation nothing else keeps
                inputStorage = x.storage
                y = op(x)
            }
            XCTAssertEqual(inputStorage != nil, keeps, name)
            (y! * y!).sum().backward()
            let expected = op(leaf + leaf).scalars
            XCTAssertNotNil(leaf.grad, name)
            XCTAssertEqual(y!.scalars, expected, name)
        }
    }

    /// In bf16 mode an op keeps its activation rounded to bfloat16 (half the memory; the fp32
    /// tensor is not kept alive) and the gradient stays within bfloat16 error of fp32's.
    func testBF16ModeKeepsActivationsRounded() {
        let saved = BLAS.precision
        defer { BLAS.precision = saved }
        var grads: [[Float]] = []
        for precision in [BLAS.Precision.fp32, .bf16] {
            BLAS.precision = precision
            var rng = SeededRandom(seed: 4)
            let leaf = Tensor.normal([64, 256], using: &rng).trainable()
            weak var inputStorage: TensorStorage?
            let before = BufferPool.shared.liveBytes
            var y: Tensor?
            do {
                let x = leaf + leaf
                inputStorage = x.storage
                y = x.gelu()
            }
            XCTAssertEqual(inputStorage != nil, precision == .fp32, "\(precision): the fp32 input is kept only in fp32 mode")
            let kept = BufferPool.shared.liveBytes - before - y!.count * 4
            XCTAssertEqual(kept, precision == .fp32 ? leaf.count * 4 : leaf.count * 2, "\(precision): bytes kept for the backward")
            (y! * y!).sum().backward()
            grads.append(leaf.grad!.scalars)
        }
        let worst = zip(grads[0], grads[1]).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($0)) }.max()!
        XCTAssertLessThan(worst, 2e-2)
        XCTAssertGreaterThan(worst, 0, "the bf16 backward used the rounded input")
    }

    /// A checkpointed region gives the same output and the same gradients (input, a trainable
    /// weight inside, a frozen one) bit for bit as the plain region, keeps only its input alive
    /// for the backward (not the [rows, 4·cols] activation inside), and records nothing when
    /// nothing inside or before it trains.
    func testCheckpointedRegionRecomputesInTheBackward() {
        for (inputTrains, weightTrains) in [(true, true), (true, false), (false, true)] {
            var results: [[Float]] = []
            for checkpoint in [false, true] {
                var rng = SeededRandom(seed: 12)
                let leaf = Tensor.normal([6, 8], using: &rng).trainable(inputTrains)
                let w = Tensor.normal([32, 8], std: 0.3, using: &rng).trainable(weightTrains)
                let region: (Tensor) -> Tensor = { linear($0, w).gelu() }
                let x = leaf * 1.5
                let y: Tensor? = checkpoint ? checkpointed(x, region) : region(x)
                (y! * y!).sum().backward()
                results.append(y!.scalars + (leaf.grad?.scalars ?? []) + (w.grad?.scalars ?? []))
            }
            XCTAssertEqual(results[0], results[1], "input trains \(inputTrains), weight trains \(weightTrains)")
        }
        // What the region keeps: only its input, not the GELU input (4x larger) inside it.
        var rng = SeededRandom(seed: 13)
        let x = Tensor.normal([64, 16], using: &rng).trainable()
        let w = Tensor.normal([64, 16], using: &rng)
        let before = BufferPool.shared.liveBytes
        let plain = linear(x, w).gelu()
        let plainKept = BufferPool.shared.liveBytes - before - plain.count * 4
        let recomputed = checkpointed(x) { linear($0, w).gelu() }
        let checkpointKept = BufferPool.shared.liveBytes - before - plainKept - plain.count * 4 - recomputed.count * 4
        XCTAssertEqual(plainKept, 64 * 64 * 4, "plain: GELU keeps the [64, 64] product")
        XCTAssertEqual(checkpointKept, 0, "checkpointed: only the input, which is alive anyway")
        // Nothing trains: no graph.
        let frozen = checkpointed(Tensor.normal([4, 16], using: &rng)) { linear($0, w).gelu() }
        XCTAssertFalse(frozen.requiresGrad)
    }

    func testNoGradientScopeRecordsNothing() {
        let w = Tensor.ones([3]).trainable()
        let y = withoutGradients { (w * 2).exp() }
        XCTAssertNil(y.gradNode)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testGradientsAccumulateAcrossBackwardCalls() {
        let w = Tensor([1, 2, 3]).trainable()
        (w * w).sum().backward()
        (w * 3).sum().backward()
        XCTAssertEqual(w.grad!.scalars, [5, 7, 9])
    }

    func testSharedInputGetsSummedGradient() {
        let x = Tensor([2]).trainable()
        let y = x * x + x.exp() * x
        y.sum().backward()
        // d/dx (x² + x·eˣ) = 2x + eˣ(1 + x)
        XCTAssertEqual(x.grad!.item, 4 + Float(M_E * M_E) * 3, accuracy: 1e-4)
    }

    func testFrozenInputsGetNoGradient() {
        let frozen = Tensor([1, 2])
        let trained = Tensor([3, 4]).trainable()
        (frozen * trained).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertEqual(trained.grad!.scalars, [1, 2])
    }

    func testSameSeedGivesBitIdenticalResults() {
        func run() -> [Float] {
            var rng = SeededRandom(seed: 42)
            let x = Tensor.normal([8, 16], using: &rng)
            let w = Tensor.truncatedNormal([4, 16], std: 0.02, using: &rng).trainable()
            let u = Tensor.uniform([4], low: -1, high: 1, using: &rng).trainable()
            var dropout = rng.derived("dropout")
            let y = linear(x, w, u).gelu().dropout(0.2, training: true, using: &dropout)
            crossEntropy(y, targets: [0, 1, 2, 3, 0, 1, 2, 3], labelSmoothing: 0.1).backward()
            return y.scalars + w.grad!.scalars + u.grad!.scalars
        }
        let first = run(), second = run()
        XCTAssertEqual(first.map(\.bitPattern), second.map(\.bitPattern))
    }

    func testRandomDistributions() {
        var rng = SeededRandom(seed: 9)
        let n = Tensor.normal([20_000], mean: 1, std: 2, using: &rng)
        XCTAssertEqual(n.mean().item, 1, accuracy: 0.05)
        XCTAssertEqual(n.variance().item.squareRoot(), 2, accuracy: 0.05)
        let t = Tensor.truncatedNormal([20_000], std: 1, a: -2, b: 2, using: &rng)
        XCTAssertLessThanOrEqual(t.max().item, 2)
        XCTAssertGreaterThanOrEqual((-t).max().item, -2)
        let u = Tensor.uniform([20_000], low: -3, high: 5, using: &rng)
        XCTAssertEqual(u.mean().item, 1, accuracy: 0.1)
        // Streams derived for different purposes differ.
        var a = rng.derived("init"), b = rng.derived("data")
        XCTAssertNotEqual(a.next(), b.next())
    }

    func testBufferPoolReusesMemoryAndTracksPeak() {
        BufferPool.shared.resetPeak()
        let before = BufferPool.shared.liveBytes
        do {
            let a = Tensor.zeros([1000, 256])
            XCTAssertEqual(BufferPool.shared.liveBytes - before, a.count * 4)
        }
        XCTAssertEqual(BufferPool.shared.liveBytes, before)
        XCTAssertGreaterThanOrEqual(BufferPool.shared.peakBytes - before, 1000 * 256 * 4)
        let allocations = BufferPool.shared.systemAllocations
        for _ in 0..<10 { _ = Tensor.zeros([1000, 256]) }
        XCTAssertEqual(BufferPool.shared.systemAllocations, allocations, "same-size buffers come from the pool")
    }

    /// A large request reuses a cached buffer up to 25 % larger (the smallest that fits),
    /// never a smaller one or a much larger one. Sizes are odd so no other test cached them.
    func testBufferPoolBestFitForLargeRequests() {
        BufferPool.shared.trim()   // no buffers cached by other tests
        let base = 3_000_017
        do {   // cached on release: 10 % and 3 % larger than `base`
            let larger = Tensor(uninitializedShape: [base + 300_000]), slightlyLarger = Tensor(uninitializedShape: [base + 100_000])
            XCTAssertNotEqual(larger.data, slightlyLarger.data)
        }
        var allocations = BufferPool.shared.systemAllocations
        let before = BufferPool.shared.liveBytes
        do {
            let t = Tensor(uninitializedShape: [base])
            XCTAssertEqual(BufferPool.shared.systemAllocations, allocations, "a slightly larger cached buffer serves the request")
            XCTAssertEqual(BufferPool.shared.liveBytes - before, (base + 100_000) * 4, "the smallest buffer that fits, counted at its capacity")
            t.data[base - 1] = 1   // the whole requested range is usable
        }
        allocations = BufferPool.shared.systemAllocations
        _ = Tensor(uninitializedShape: [base + 400_000])   // none of the cached ones fits
        XCTAssertEqual(BufferPool.shared.systemAllocations, allocations + 1)
        _ = Tensor(uninitializedShape: [base / 2])          // 2x smaller than every cached one: no reuse
        XCTAssertEqual(BufferPool.shared.systemAllocations, allocations + 2)
    }

    func testDropoutStatistics() {
        var rng = SeededRandom(seed: 5)
        let x = Tensor.ones([100_000])
        let y = x.dropout(0.25, training: true, using: &rng)
        let zeros = y.scalars.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 100_000, 0.25, accuracy: 0.01)
        XCTAssertEqual(y.mean().item, 1, accuracy: 0.02)
        XCTAssertTrue(x.dropout(0.25, training: false, using: &rng) === x)
        let paths = Tensor.ones([1000, 4]).dropPath(0.5, training: true, using: &rng)
        for row in 0..<1000 {
            let values = Set(paths.scalars[(row * 4)..<(row * 4 + 4)])
            XCTAssertEqual(values.count, 1, "drop path drops whole samples")
        }
    }

    func testSafeTensorsRoundTrip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vpeft-st-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: 3)
        let tensors = ["a.weight": Tensor.normal([3, 4], using: &rng), "b": Tensor.normal([5], using: &rng), "scalar": Tensor(scalar: 2)]
        let url = folder.appendingPathComponent("x.safetensors")
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: url)
        let file = try SafeTensors.read(url)
        XCTAssertEqual(file.metadata["format"], "pt")
        for (name, t) in tensors {
            XCTAssertEqual(file.tensors[name]?.shape, t.shape)
            XCTAssertEqual(file.tensors[name]?.scalars, t.scalars)
        }
    }

    func testSafeTensorsRejectsCorruptFiles() throws {
        let good = try Data(contentsOf: Fixtures.folder.appendingPathComponent("views.safetensors"))
        var lyingHeader = good
        lyingHeader[0] = 0xFF; lyingHeader[1] = 0xFF; lyingHeader[2] = 0xFF
        let cases: [(String, Data)] = [("empty", Data()), ("truncated", good.prefix(good.count / 2)),
                                       ("lying header length", lyingHeader), ("garbage", Data(repeating: 7, count: 64))]
        for (name, data) in cases {
            XCTAssertThrowsError(try SafeTensors.read(data, name: name)) { error in
                XCTAssertTrue("\(error)".hasPrefix(name), "error names the file: \(error)")
            }
        }
        // Thousands of random mutations: each either reads or throws, never traps.
        var rng = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            var mutated = good
            for _ in 0..<(1 + rng.nextInt(4)) { mutated[rng.nextInt(mutated.count)] = UInt8(rng.nextInt(256)) }
            if rng.nextInt(4) == 0 { mutated = mutated.prefix(rng.nextInt(mutated.count)) }
            _ = try? SafeTensors.read(mutated, name: "mutated")
        }
    }
}

import Foundation
