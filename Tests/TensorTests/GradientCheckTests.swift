import Foundation
import Tensor
import XCTest

/// A finite-difference gradient check for every differentiable op (see GradientCheck.swift).
final class GradientCheckTests: XCTestCase {
    var g = Inputs()

    /// The checker itself must fail on a wrong gradient: here one factor is cut from the graph,
    /// so the analytic gradient of x·x is x instead of 2x.
    func testCheckerDetectsAWrongGradient() {
        let mismatch = gradientMismatch("x·x with a detached factor", inputs: [g.normal([4])]) { $0[0].detached() * $0[0] }
        XCTAssertNotNil(mismatch)
    }

    func testUnaryOps() {
        checkGradients("neg", inputs: [g.normal([3, 4])]) { -$0[0] }
        checkGradients("exp", inputs: [g.normal([3, 4])]) { $0[0].exp() }
        checkGradients("log", inputs: [g.positive([3, 4])]) { $0[0].log() }
        checkGradients("sqrt", inputs: [g.positive([3, 4])]) { $0[0].sqrt() }
        checkGradients("pow", inputs: [g.positive([3, 4])]) { $0[0].pow(1.5) }
        checkGradients("pow negative exponent", inputs: [g.positive([5])]) { $0[0].pow(-2) }
        checkGradients("abs", inputs: [g.awayFromKinks([3, 4])]) { $0[0].abs() }
        checkGradients("tanh", inputs: [g.normal([3, 4])]) { $0[0].tanh() }
        checkGradients("sigmoid", inputs: [g.normal([3, 4], scale: 3)]) { $0[0].sigmoid() }
        checkGradients("relu", inputs: [g.awayFromKinks([3, 4])]) { $0[0].relu() }
        checkGradients("relu6", inputs: [g.awayFromKinks([4, 5])]) { $0[0].relu6() }
        checkGradients("gelu", inputs: [g.normal([4, 5], scale: 2)]) { $0[0].gelu() }
        checkGradients("quick gelu", inputs: [g.normal([4, 5], scale: 2)]) { $0[0].quickGelu() }
        checkGradients("silu", inputs: [g.normal([4, 5])]) { $0[0].silu() }
        checkGradients("swish beta 100", inputs: [g.normal([4, 5], scale: 0.02)], epsilon: 1e-3) { $0[0].silu(beta: 100) }
        checkGradients("square", inputs: [g.normal([6])]) { $0[0].squared() }
        checkGradients("scalar ops", inputs: [g.normal([6])]) { ($0[0] + 2) * 3 - 1 }
        checkGradients("divide by scalar", inputs: [g.normal([6])]) { $0[0] / 4 }
    }

    func testBinaryOpsWithBroadcasting() {
        let shapes: [([Int], [Int])] = [([3, 4], [3, 4]), ([4, 3], [3]), ([2, 1, 3], [4, 1]), ([3], [2, 3]), ([1], [2, 3])]
        for (a, b) in shapes {
            checkGradients("add \(a) \(b)", inputs: [g.normal(a), g.normal(b)]) { $0[0] + $0[1] }
            checkGradients("sub \(a) \(b)", inputs: [g.normal(a), g.normal(b)]) { $0[0] - $0[1] }
            checkGradients("mul \(a) \(b)", inputs: [g.normal(a), g.normal(b)]) { $0[0] * $0[1] }
            checkGradients("div \(a) \(b)", inputs: [g.normal(a), g.positive(b)]) { $0[0] / $0[1] }
        }
        let mask = Tensor(shape: [2, 3], [1, 0, 1, 0, 0, 1])
        checkGradients("where", inputs: [mask, g.normal([2, 3]), g.normal([3])], checking: [1, 2]) { `where`($0[0], $0[1], $0[2]) }
    }

    func testReductions() {
        for dims in [[], [0], [1], [-1], [0, 2]] {
            for keep in [false, true] {
                checkGradients("sum \(dims) keep \(keep)", inputs: [g.normal([2, 3, 4])]) { $0[0].sum(dims: dims, keepDims: keep) }
                checkGradients("mean \(dims) keep \(keep)", inputs: [g.normal([2, 3, 4])]) { $0[0].mean(dims: dims, keepDims: keep) }
                checkGradients("max \(dims) keep \(keep)", inputs: [g.normal([2, 3, 4])], epsilon: 1e-3) { $0[0].max(dims: dims, keepDims: keep) }
                checkGradients("var \(dims) keep \(keep)", inputs: [g.normal([2, 3, 4])]) { $0[0].variance(dims: dims, keepDims: keep) }
            }
        }
        checkGradients("population var", inputs: [g.normal([3, 5])]) { $0[0].variance(dims: [1], correction: 0) }
    }

    func testMatrixProducts() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = ta ? g.normal([4, 3]) : g.normal([3, 4]), b = tb ? g.normal([5, 4]) : g.normal([4, 5])
            checkGradients("matmul 2-D \(ta) \(tb)", inputs: [a, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            let ba = ta ? g.normal([2, 4, 3]) : g.normal([2, 3, 4]), bb = tb ? g.normal([2, 5, 4]) : g.normal([2, 4, 5])
            checkGradients("matmul batched \(ta) \(tb)", inputs: [ba, bb]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            checkGradients("matmul shared matrix \(ta) \(tb)", inputs: [ba, b]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
        checkGradients("linear", inputs: [g.normal([2, 3, 4]), g.normal([5, 4]), g.normal([5])]) { linear($0[0], $0[1], $0[2]) }
        checkGradients("linear without bias", inputs: [g.normal([3, 4]), g.normal([5, 4])]) { linear($0[0], $0[1]) }
        checkGradients("linear frozen weight", inputs: [g.normal([3, 4]), g.normal([5, 4]), g.normal([5])], checking: [0]) { linear($0[0], $0[1], $0[2]) }
        checkGradients("kron", inputs: [g.normal([2, 3]), g.normal([3, 2])]) { kron($0[0], $0[1]) }
    }

    func testNormalisationAndSoftmax() {
        checkGradients("layer norm", inputs: [g.normal([3, 8], scale: 2), g.normal([8]), g.normal([8])]) {
            layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-6)
        }
        checkGradients("layer norm without affine", inputs: [g.normal([2, 2, 6])]) { layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5) }
        checkGradients("softmax", inputs: [g.normal([3, 7])]) { $0[0].softmax() }
        checkGradients("softmax middle axis", inputs: [g.normal([2, 4, 3])]) { $0[0].softmax(dim: 1) }
        checkGradients("log softmax", inputs: [g.normal([3, 7])]) { $0[0].logSoftmax() }
        checkGradients("batch norm", inputs: [g.normal([2, 3, 2, 2]), g.normal([3]), g.positive([3]), g.normal([3]), g.normal([3])],
                       checking: [0, 3, 4]) {
            batchNormInference($0[0], runningMean: $0[1], runningVar: $0[2], weight: $0[3], bias: $0[4], eps: 1e-3)
        }
    }

    func testAttention() {
        let (b, h, n, d) = (2, 2, 3, 4)
        checkGradients("attention", inputs: [g.normal([b, h, n, d]), g.normal([b, h, n, d]), g.normal([b, h, n, d])]) {
            attention($0[0], $0[1], $0[2], scale: 0.5)
        }
        checkGradients("attention with extra keys and values",
                       inputs: [g.normal([b, h, n, d]), g.normal([b, h, n, d]), g.normal([b, h, n, d]), g.normal([h, 2, d]), g.normal([h, 2, d])]) {
            attention($0[0], $0[1], $0[2], extraKeys: $0[3], extraValues: $0[4], scale: 0.5)
        }
        checkGradients("attention, only the prefix trains",
                       inputs: [g.normal([b, h, n, d]), g.normal([b, h, n, d]), g.normal([b, h, n, d]), g.normal([h, 2, d]), g.normal([h, 2, d])],
                       checking: [3, 4]) {
            attention($0[0], $0[1], $0[2], extraKeys: $0[3], extraValues: $0[4], scale: 0.5)
        }
    }

    func testLosses() {
        for s: Float in [0, 0.1] {
            checkGradients("cross entropy smoothing \(s)", inputs: [g.normal([4, 5])]) { crossEntropy($0[0], targets: [0, 3, 4, 1], labelSmoothing: s) }
        }
    }

    func testStochasticRegularisers() {
        // The mask is fixed by the seed, so the function is deterministic and differentiable.
        checkGradients("dropout", inputs: [g.normal([4, 6])]) { x in
            var rng = SeededRandom(seed: 3)
            return x[0].dropout(0.3, training: true, using: &rng)
        }
        checkGradients("drop path", inputs: [g.normal([6, 2, 3])]) { x in
            var rng = SeededRandom(seed: 3)
            return x[0].dropPath(0.4, training: true, using: &rng)
        }
    }

    func testConvolutionAndPooling() {
        let cases: [(String, [Int], [Int], (Int, Int), Padding, Int)] = [
            ("3x3 pad 1", [2, 3, 5, 5], [4, 3, 3, 3], (1, 1), .symmetric(1, 1), 1),
            ("3x3 stride 2 same, odd size", [1, 2, 5, 5], [3, 2, 3, 3], (2, 2), .same, 1),
            ("3x3 stride 2 same, even size", [1, 2, 6, 4], [3, 2, 3, 3], (2, 2), .same, 1),
            ("5x5 depthwise same stride 2", [1, 3, 6, 6], [3, 1, 5, 5], (2, 2), .same, 3),
            ("3x3 depthwise same", [2, 2, 4, 4], [2, 1, 3, 3], (1, 1), .same, 2),
            ("groups 2", [1, 4, 4, 4], [6, 2, 3, 3], (1, 1), .symmetric(1, 1), 2),
            ("1x1", [2, 3, 3, 3], [2, 3, 1, 1], (1, 1), .none, 1),
            ("patch embed 2x2 stride 2", [1, 3, 4, 4], [5, 3, 2, 2], (2, 2), .none, 1),
        ]
        for (name, xs, ws, stride, padding, groups) in cases {
            checkGradients("conv2d \(name)", inputs: [g.normal(xs), g.normal(ws, scale: 0.5), g.normal([ws[0]])]) {
                conv2d($0[0], $0[1], $0[2], stride: stride, padding: padding, groups: groups)
            }
        }
        let transposed: [(String, [Int], [Int], (Int, Int), (Int, Int), (Int, Int), Int)] = [
            ("k4 s2 p1 (the saliency decoder's)", [2, 3, 3, 3], [3, 2, 4, 4], (2, 2), (1, 1), (0, 0), 1),
            ("k3 s2 p1 output padding 1", [1, 2, 3, 4], [2, 3, 3, 3], (2, 2), (1, 1), (1, 1), 1),
            ("k3 s1 p0", [1, 2, 3, 3], [2, 2, 3, 3], (1, 1), (0, 0), (0, 0), 1),
            ("1x1", [2, 3, 2, 2], [3, 2, 1, 1], (1, 1), (0, 0), (0, 0), 1),
            ("groups 2", [1, 4, 3, 3], [4, 1, 3, 3], (2, 2), (1, 1), (0, 0), 2),
        ]
        for (name, xs, ws, stride, padding, outputPadding, groups) in transposed {
            checkGradients("conv2dTransposed \(name)", inputs: [g.normal(xs), g.normal(ws, scale: 0.5), g.normal([ws[1] * groups])]) {
                conv2dTransposed($0[0], $0[1], $0[2], stride: stride, padding: padding, outputPadding: outputPadding, groups: groups)
            }
        }
        checkGradients("avg pool", inputs: [g.normal([1, 2, 5, 5])]) { avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1)) }
        checkGradients("avg pool excluding pad", inputs: [g.normal([1, 2, 5, 5])]) {
            avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: .symmetric(1, 1), countIncludePad: false)
        }
        checkGradients("global avg pool", inputs: [g.normal([2, 3, 3, 2])]) { globalAvgPool($0[0]) }
        checkGradients("max pool 2x2, odd side", inputs: [g.normal([2, 2, 5, 5])]) { maxPool2d($0[0], kernel: (2, 2)) }
        checkGradients("max pool 3x3 s2, overlapping", inputs: [g.normal([1, 2, 5, 6])]) { maxPool2d($0[0], kernel: (3, 3), stride: (2, 2)) }
    }

    func testResize() {
        for filter in ResizeFilter.allCases {
            for antialias in [false, true] {
                checkGradients("resize up \(filter) aa \(antialias)", inputs: [g.normal([1, 2, 3, 4])]) { resize($0[0], to: (5, 6), filter: filter, antialias: antialias) }
                checkGradients("resize down \(filter) aa \(antialias)", inputs: [g.normal([1, 1, 6, 7])]) { resize($0[0], to: (4, 3), filter: filter, antialias: antialias) }
            }
        }
    }

    func testAdaptiveAveragePooling() {
        checkGradients("adaptive pool overlapping bins", inputs: [g.normal([1, 2, 7, 5])]) { adaptiveAvgPool2d($0[0], to: (3, 3)) }
        checkGradients("adaptive pool growing", inputs: [g.normal([2, 1, 2, 3])]) { adaptiveAvgPool2d($0[0], to: (3, 6)) }
    }

    /// The gradient flows through the batch mean and variance as well as the affine part.
    func testBatchNormTraining() {
        checkGradients("batch norm training", inputs: [g.normal([3, 2, 3, 2]), g.normal([2]), g.normal([2])]) {
            batchNormTraining($0[0], weight: $0[1], bias: $0[2], eps: 1e-5).output
        }
    }

    func testPixelCrossEntropy() {
        let targets = [0, 255, 2, 1, 1, 255, 0, 2, 2, 0, 1, 255]  // [2, 2, 3], some ignored
        checkGradients("pixel cross-entropy", inputs: [g.normal([2, 3, 2, 3])]) { pixelCrossEntropy($0[0], targets: targets) }
    }

    func testViews() {
        checkGradients("reshape", inputs: [g.normal([2, 6])]) { $0[0].reshaped([3, -1]) * $0[0].reshaped([3, 4]) }
        checkGradients("permute", inputs: [g.normal([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) }
        checkGradients("transpose", inputs: [g.normal([2, 3, 4])]) { $0[0].transposed(0, 2) }
        checkGradients("narrow", inputs: [g.normal([3, 5])]) { $0[0].narrowed(1, start: 1, length: 3) }
        checkGradients("split", inputs: [g.normal([4, 6])]) { x in
            let parts = x[0].split([1, 2, 3], dim: 1)
            return parts[0] * parts[0] + parts[2].sum(dims: [1], keepDims: true) + parts[1].mean(dims: [1], keepDims: true)
        }
        checkGradients("chunk", inputs: [g.normal([4, 6])]) { x in
            let parts = x[0].chunked(3, dim: 1)
            return parts[0] * parts[2] - parts[1]
        }
        checkGradients("concat", inputs: [g.normal([2, 3]), g.normal([2, 1]), g.normal([2, 2])]) { concat($0, dim: 1) }
        checkGradients("expand", inputs: [g.normal([3, 1])]) { $0[0].expanded(to: [2, 3, 4]) }
        checkGradients("index select with repeats", inputs: [g.normal([4, 3])]) { $0[0].indexSelect([3, 0, 3, 1], dim: 0) }
        checkGradients("adding into a slice", inputs: [g.normal([2, 6]), g.normal([2, 2])]) { $0[0].addingNarrow($0[1], dim: 1, start: 3) }
        checkGradients("index select axis 1", inputs: [g.normal([2, 4])]) { $0[0].indexSelect([2, 2, 0], dim: 1) }
    }

    /// A small composite graph (a pre-LN transformer block) exercises gradient accumulation
    /// through shared inputs and every op in one backward.
    func testTransformerBlockComposite() {
        let d = 8, heads = 2
        let inputs = [g.normal([2, 3, d]), g.normal([3 * d, d], scale: 0.3), g.normal([d, d], scale: 0.3),
                      g.normal([16, d], scale: 0.3), g.normal([d, 16], scale: 0.3), g.normal([d]), g.normal([d])]
        checkGradients("transformer block", inputs: inputs, epsilon: 3e-3) { p in
            let x = p[0]
            let h = layerNorm(x, weight: p[5], bias: p[6], eps: 1e-6)
            let qkv = linear(h, p[1]).reshaped([2, 3, 3, heads, d / heads]).permuted([2, 0, 3, 1, 4])
            let parts = qkv.chunked(3, dim: 0).map { $0.reshaped([2, heads, 3, d / heads]) }
            let a = attention(parts[0], parts[1], parts[2], scale: 0.5).permuted([0, 2, 1, 3]).reshaped([2, 3, d])
            let x1 = x + linear(a, p[2])
            return x1 + linear(linear(layerNorm(x1, weight: nil, bias: nil, eps: 1e-6), p[3]).gelu(), p[4])
        }
    }
}

extension GradientCheckTests {
    /// The fused path equals splitting qkv and calling `attention`, forward and backward, whether
    /// the samples go through at once or in groups (a scratch bound of one sample's probabilities
    /// makes groups of one; 3 samples leave a partial last group at two per group).
    func testFusedSelfAttention() {
        let (b, n, heads, dh) = (3, 5, 3, 4)
        let qkv = g.normal([b, n, 3 * heads * dh])
        let oneSample = heads * n * n * 4
        for scratch in [16 << 20, oneSample, 2 * oneSample] {
            checkGradients("fused self-attention, scratch \(scratch)", inputs: [qkv]) { fusedSelfAttention($0[0], heads: heads, scale: 0.4, scratchBytes: scratch) }
        }
        let split = qkv.reshaped([b, n, 3, heads, dh]).permuted([2, 0, 3, 1, 4])
        func part(_ i: Int) -> Tensor { split.narrowed(0, start: i, length: 1).reshaped([b, heads, n, dh]) }
        let reference = attention(part(0), part(1), part(2), scale: 0.4).transposed(1, 2).reshaped([b, n, heads * dh])
        let fused = fusedSelfAttention(qkv, heads: heads, scale: 0.4)
        for (x, y) in zip(fused.scalars, reference.scalars) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    func testSupervisedContrastiveLoss() {
        var g = SeededRandom(seed: 21)
        // Two views of three images (labels 0, 1, 0): every anchor has positives.
        let features = Tensor.normal([6, 4], using: &g)
        checkGradients("supervised contrastive", inputs: [features]) { supervisedContrastiveLoss($0[0], labels: [0, 1, 0, 0, 1, 0], temperature: 0.5) }
        // The value against the definition written out in Double.
        let labels = [0, 1, 0, 0, 1, 0]
        let f = features.scalars.map(Double.init)
        let z = (0..<6).map { i -> [Double] in
            let row = Array(f[(i * 4)..<(i * 4 + 4)]), norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / norm }
        }
        func sim(_ i: Int, _ j: Int) -> Double { zip(z[i], z[j]).reduce(0) { $0 + $1.0 * $1.1 } / 0.5 }
        var total = 0.0
        for i in 0..<6 {
            let denominator = (0..<6).filter { $0 != i }.reduce(0.0) { $0 + Foundation.exp(sim(i, $1)) }
            let pos = (0..<6).filter { $0 != i && labels[$0] == labels[i] }
            total += -pos.reduce(0.0) { $0 + Foundation.log(Foundation.exp(sim(i, $1)) / denominator) } / Double(pos.count)
        }
        XCTAssertEqual(Double(withoutGradients { supervisedContrastiveLoss(features, labels: labels, temperature: 0.5) }.item), total / 6, accuracy: 1e-5)
    }
}

extension GradientCheckTests {
    /// The ops of Swin Transformer's shifted windows and patch merging.
    func testSwinWindowOps() {
        checkGradients("roll over H and W", inputs: [g.normal([2, 3, 4, 2])]) { $0[0].rolled([-1, 2], dims: [1, 2]) }
        checkGradients("roll past the axis size", inputs: [g.normal([5, 3])]) { $0[0].rolled(7, dim: 0) }
        checkGradients("pad H and W", inputs: [g.normal([2, 3, 2, 2])]) { $0[0].padded(dim: 1, after: 2).padded(dim: 2, before: 1, after: 1) }
        checkGradients("window partition", inputs: [g.normal([2, 4, 6, 3])]) { windowPartition($0[0], window: 2) }
        checkGradients("window reverse", inputs: [g.normal([6, 4, 3])]) { windowReverse($0[0], window: 2, height: 4, width: 6) }
        checkGradients("space to depth 2x2", inputs: [g.normal([2, 4, 2, 3])]) { spaceToDepth2x2($0[0]) }
        // A shifted window: a roll, padding, windows and back, as a Swin block composes them.
        checkGradients("shifted windows round trip", inputs: [g.normal([1, 3, 3, 2])]) { x in
            let windows = windowPartition(x[0].rolled([-1, -1], dims: [1, 2]).padded(dim: 1, after: 1).padded(dim: 2, after: 1), window: 2)
            return windowReverse(windows * windows, window: 2, height: 4, width: 4).narrowed(1, start: 0, length: 3)
                .narrowed(2, start: 0, length: 3).rolled([1, 1], dims: [1, 2])
        }
    }

    /// Window attention against its definition and its finite differences, with and without the
    /// shifted-window mask, with windows processed at once or in groups (one window's
    /// probabilities per group; three per group leaves a partial last group).
    func testWindowAttention() {
        let (windows, n, heads, dh, perImage) = (4, 4, 2, 3, 2)
        let qkv = g.normal([windows, n, 3 * heads * dh]), bias = g.normal([heads, n, n], scale: 0.5)
        let mask = Tensor.zeros([perImage, n, n])
        for i in 0..<n { for j in 0..<n where (i < 2) != (j < 2) { mask.data[(1 * n + i) * n + j] = -100 } }
        let oneWindow = heads * n * n * 4
        for scratch in [16 << 20, oneWindow, 3 * oneWindow] {
            for masked in [false, true] {
                checkGradients("window attention, mask \(masked), scratch \(scratch)", inputs: [qkv, bias]) {
                    windowAttention($0[0], heads: heads, scale: 0.5, bias: $0[1], mask: masked ? mask : nil, scratchBytes: scratch)
                }
            }
        }
        checkGradients("window attention, only the bias trains", inputs: [qkv, bias], checking: [1]) {
            windowAttention($0[0], heads: heads, scale: 0.5, bias: $0[1], mask: mask)
        }
        // The definition: softmax(scale·QKᵀ + bias + mask)·V per window and head, window w of
        // an image taking mask w mod nW.
        let split = qkv.reshaped([windows, n, 3, heads, dh]).permuted([2, 0, 3, 1, 4])
        func part(_ i: Int) -> Tensor { split.narrowed(0, start: i, length: 1).reshaped([windows, heads, n, dh]) }
        let logits = matmul(part(0), part(1), transposeB: true) * 0.5 + bias
            + mask.reshaped([1, perImage, 1, n, n]).expanded(to: [windows / perImage, perImage, 1, n, n]).reshaped([windows, 1, n, n])
        let reference = matmul(logits.softmax(), part(2)).transposed(1, 2).reshaped([windows, n, heads * dh])
        let fused = windowAttention(qkv, heads: heads, scale: 0.5, bias: bias, mask: mask)
        for (x, y) in zip(fused.scalars, reference.scalars) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }
}
