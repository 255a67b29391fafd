import Tensor
import XCTest

/// The fast conv2d kernels (padded/phased depthwise, direct 1×1 GEMM, parallel im2col) against a
/// straightforward reference written here, for outputs and all gradients, plus finite-difference
/// checks of the new paths.
final class ConvolutionKernelTests: XCTestCase {
    struct Case {
        let x: [Int], w: [Int], stride: (Int, Int), padding: Padding, groups: Int, bias: Bool
        var name: String { "x \(x) w \(w) stride \(stride) \(padding) groups \(groups) bias \(bias)" }
    }

    /// Depthwise (channel multiplier 1), 1×1 direct, and general im2col cases: odd sizes,
    /// strides 1/2/3, SAME and explicit (also asymmetric, and padding an input only partly read).
    static let cases: [Case] = [
        Case(x: [2, 3, 7, 9], w: [3, 1, 3, 3], stride: (1, 1), padding: .same, groups: 3, bias: true),
        Case(x: [3, 4, 9, 7], w: [4, 1, 3, 3], stride: (2, 2), padding: .same, groups: 4, bias: false),
        Case(x: [2, 5, 8, 8], w: [5, 1, 3, 3], stride: (2, 2), padding: .same, groups: 5, bias: true),
        Case(x: [2, 3, 11, 6], w: [3, 1, 5, 5], stride: (2, 2), padding: .same, groups: 3, bias: true),
        Case(x: [1, 2, 10, 13], w: [2, 1, 5, 5], stride: (1, 1), padding: .same, groups: 2, bias: false),
        Case(x: [2, 3, 7, 7], w: [3, 1, 3, 3], stride: (1, 1), padding: .symmetric(1, 1), groups: 3, bias: true),
        Case(x: [2, 3, 8, 9], w: [3, 1, 3, 3], stride: (2, 2), padding: .explicit(top: 0, bottom: 2, left: 1, right: 0), groups: 3, bias: true),
        Case(x: [1, 4, 9, 10], w: [4, 1, 3, 3], stride: (2, 2), padding: .none, groups: 4, bias: false),
        Case(x: [2, 2, 12, 11], w: [2, 1, 7, 7], stride: (3, 3), padding: .symmetric(3, 2), groups: 2, bias: true),
        Case(x: [2, 3, 6, 5], w: [3, 1, 2, 4], stride: (1, 2), padding: .explicit(top: 1, bottom: 0, left: 2, right: 1), groups: 3, bias: false),
        Case(x: [1, 2, 3, 3], w: [2, 1, 5, 5], stride: (2, 2), padding: .same, groups: 2, bias: true),
        Case(x: [3, 6, 5, 7], w: [4, 6, 1, 1], stride: (1, 1), padding: .none, groups: 1, bias: true),
        Case(x: [1, 6, 5, 7], w: [4, 6, 1, 1], stride: (1, 1), padding: .same, groups: 1, bias: false),
        Case(x: [3, 4, 5, 3], w: [6, 2, 1, 1], stride: (1, 1), padding: .none, groups: 2, bias: true),
        Case(x: [2, 4, 7, 7], w: [5, 4, 1, 1], stride: (2, 2), padding: .none, groups: 1, bias: true),
        Case(x: [3, 3, 9, 8], w: [4, 3, 3, 3], stride: (2, 2), padding: .same, groups: 1, bias: true),
        Case(x: [2, 4, 6, 7], w: [6, 2, 3, 3], stride: (1, 1), padding: .symmetric(1, 1), groups: 2, bias: false),
        Case(x: [1, 3, 7, 5], w: [2, 3, 3, 2], stride: (1, 2), padding: .explicit(top: 2, bottom: 0, left: 0, right: 3), groups: 1, bias: true),
        Case(x: [2, 2, 6, 6], w: [4, 1, 3, 3], stride: (1, 1), padding: .same, groups: 2, bias: true),
    ]

    // MARK: Reference

    static func resolve(_ c: Case) -> (top: Int, left: Int, ho: Int, wo: Int) {
        let (h, w, kh, kw) = (c.x[2], c.x[3], c.w[2], c.w[3])
        let (sh, sw) = c.stride
        var t = 0, b = 0, l = 0, r = 0
        switch c.padding {
        case let .explicit(top, bottom, left, right): (t, b, l, r) = (top, bottom, left, right)
        case .same:
            let th = max(((h + sh - 1) / sh - 1) * sh + kh - h, 0), tw = max(((w + sw - 1) / sw - 1) * sw + kw - w, 0)
            (t, b, l, r) = (th / 2, th - th / 2, tw / 2, tw - tw / 2)
        }
        return (t, l, (h + t + b - kh) / sh + 1, (w + l + r - kw) / sw + 1)
    }

    /// Visits every (output index, input index, weight index) product of the convolution.
    static func forEachProduct(_ c: Case, _ body: (Int, Int, Int) -> Void) {
        let (n, ch, h, w) = (c.x[0], c.x[1], c.x[2], c.x[3])
        let (o, cg, kh, kw) = (c.w[0], c.w[1], c.w[2], c.w[3])
        let (top, left, ho, wo) = resolve(c)
        let og = o / c.groups
        for s in 0..<n { for oc in 0..<o {
            let gi = oc / og
            for oy in 0..<ho { for ox in 0..<wo {
                let outIndex = ((s * o + oc) * ho + oy) * wo + ox
                for ic in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                    let iy = oy * c.stride.0 - top + ky, ix = ox * c.stride.1 - left + kx
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let inIndex = ((s * ch + gi * cg + ic) * h + iy) * w + ix
                    body(outIndex, inIndex, ((oc * cg + ic) * kh + ky) * kw + kx)
                } } }
            } }
        } }
    }

    /// Reference output, and gradients of Σ out·g (in Double).
    static func reference(_ c: Case, x: [Float], w: [Float], b: [Float]?, g: [Float]) -> (y: [Float], gx: [Float], gw: [Float], gb: [Float]) {
        let (top, left, ho, wo) = resolve(c)
        _ = (top, left)
        let o = c.w[0], spatial = ho * wo
        var y = [Double](repeating: 0, count: c.x[0] * o * spatial)
        var gx = [Double](repeating: 0, count: x.count), gw = [Double](repeating: 0, count: w.count)
        forEachProduct(c) { oi, ii, wi in
            y[oi] += Double(x[ii]) * Double(w[wi])
            gx[ii] += Double(g[oi]) * Double(w[wi])
            gw[wi] += Double(g[oi]) * Double(x[ii])
        }
        var gb = [Double](repeating: 0, count: o)
        for i in 0..<y.count {
            let oc = (i / spatial) % o
            if let b { y[i] += Double(b[oc]) }
            gb[oc] += Double(g[i])
        }
        return (y.map(Float.init), gx.map(Float.init), gw.map(Float.init), gb.map(Float.init))
    }

    func assertClose(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        // |a − b| ≤ 1e-4·|b| + 1e-5·max|b|: float rounding (sums that cancel included), far
        // below what a wrong tap, offset or missing term produces.
        let scale = b.map { abs($0) }.max() ?? 0
        var worst: Float = 0, at = 0
        for i in 0..<min(a.count, b.count) {
            let err = abs(a[i] - b[i]) / (1e-4 * abs(b[i]) + 1e-5 * scale + 1e-30)
            if err > worst { worst = err; at = i }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(what): element \(at) is \(a.isEmpty ? 0 : a[at]), reference \(b.isEmpty ? 0 : b[at])", file: file, line: line)
    }

    // MARK: Tests

    func testFastPathsMatchReference() {
        let saved = Parallel.threadCount
        defer { Parallel.setThreadCount(saved) }
        var rng = SeededRandom(seed: 11)
        for threads in [1, 2, 3] {
            Parallel.setThreadCount(threads)
            for c in Self.cases {
                let x = Tensor.normal(c.x, using: &rng), w = Tensor.normal(c.w, std: 0.5, using: &rng)
                let b = c.bias ? Tensor.normal([c.w[0]], using: &rng) : nil
                let probe = withoutGradients { conv2d(x, w, b, stride: c.stride, padding: c.padding, groups: c.groups) }
                let g = Tensor.normal(probe.shape, using: &rng)
                let ref = Self.reference(c, x: x.scalars, w: w.scalars, b: b?.scalars, g: g.scalars)
                let name = "\(c.name) threads \(threads)"
                XCTAssertEqual(probe.count, ref.y.count, name)
                assertClose(probe.scalars, ref.y, "\(name) forward")
                // Every combination of trained inputs: the kernels take different routes.
                for (needX, needW) in [(true, true), (true, false), (false, true)] {
                    x.requiresGrad = needX; w.requiresGrad = needW; b?.requiresGrad = needW
                    x.grad = nil; w.grad = nil; b?.grad = nil
                    let y = conv2d(x, w, b, stride: c.stride, padding: c.padding, groups: c.groups)
                    assertClose(y.scalars, ref.y, "\(name) forward with graph")
                    y.backward(g)
                    if needX { assertClose(x.grad?.scalars ?? [], ref.gx, "\(name) dx (dx \(needX) dw \(needW))") } else { XCTAssertNil(x.grad) }
                    if needW {
                        assertClose(w.grad?.scalars ?? [], ref.gw, "\(name) dw (dx \(needX) dw \(needW))")
                        if let b { assertClose(b.grad?.scalars ?? [], ref.gb, "\(name) db") }
                    } else { XCTAssertNil(w.grad) }
                }
            }
        }
    }

    /// Results do not depend on how the work is split over threads beyond float rounding, and
    /// repeated calls (reused scratch buffers) give identical results.
    func testRepeatedCallsAreIdentical() {
        var rng = SeededRandom(seed: 5)
        for c in [Self.cases[3], Self.cases[11], Self.cases[15]] {
            let x = Tensor.normal(c.x, using: &rng).trainable(), w = Tensor.normal(c.w, using: &rng).trainable()
            var outputs: [[Float]] = [], grads: [[Float]] = []
            for _ in 0..<3 {
                x.grad = nil; w.grad = nil
                let y = conv2d(x, w, stride: c.stride, padding: c.padding, groups: c.groups)
                y.backward(Tensor.ones(y.shape))
                outputs.append(y.scalars)
                grads.append(x.grad!.scalars + w.grad!.scalars)
            }
            XCTAssertEqual(outputs[0], outputs[1], c.name)
            XCTAssertEqual(outputs[0], outputs[2], c.name)
            XCTAssertEqual(grads[0], grads[1], c.name)
            XCTAssertEqual(grads[0], grads[2], c.name)
        }
    }

    /// A larger depthwise conv at an EfficientNet-like shape (wide rows, many planes) against the reference.
    func testDepthwiseAtModelLikeShape() {
        var rng = SeededRandom(seed: 9)
        for (k, s) in [(3, 1), (5, 2), (3, 2), (5, 1)] {
            let c = Case(x: [2, 8, 28, 28], w: [8, 1, k, k], stride: (s, s), padding: .same, groups: 8, bias: true)
            let x = Tensor.normal(c.x, using: &rng).trainable(), w = Tensor.normal(c.w, using: &rng).trainable()
            let b = Tensor.normal([8], using: &rng).trainable()
            let y = conv2d(x, w, b, stride: c.stride, padding: c.padding, groups: c.groups)
            let g = Tensor.normal(y.shape, using: &rng)
            y.backward(g)
            let ref = Self.reference(c, x: x.scalars, w: w.scalars, b: b.scalars, g: g.scalars)
            assertClose(y.scalars, ref.y, "\(c.name) forward")
            assertClose(x.grad!.scalars, ref.gx, "\(c.name) dx")
            assertClose(w.grad!.scalars, ref.gw, "\(c.name) dw")
            assertClose(b.grad!.scalars, ref.gb, "\(c.name) db")
        }
    }

    func testFiniteDifferencesOfFastPaths() {
        var g = Inputs()
        let picks = [0, 1, 3, 6, 8, 9, 11, 13, 15, 17, 18]
        for i in picks {
            let c = Self.cases[i]
            var inputs = [g.normal(c.x), g.normal(c.w, scale: 0.5)]
            if c.bias { inputs.append(g.normal([c.w[0]])) }
            checkGradients("conv2d \(c.name)", inputs: inputs) {
                conv2d($0[0], $0[1], c.bias ? $0[2] : nil, stride: c.stride, padding: c.padding, groups: c.groups)
            }
        }
    }

    func testBatchNormInferenceMatchesFormula() {
        var rng = SeededRandom(seed: 3)
        let x = Tensor.normal([3, 5, 4, 3], using: &rng).trainable()
        let mean = Tensor.normal([5], using: &rng), variance = Tensor.uniform([5], low: 0.5, high: 2, using: &rng)
        let weight = Tensor.normal([5], using: &rng).trainable(), bias = Tensor.normal([5], using: &rng).trainable()
        let y = batchNormInference(x, runningMean: mean, runningVar: variance, weight: weight, bias: bias, eps: 1e-3)
        let gOut = Tensor.normal(y.shape, using: &rng)
        y.backward(gOut)
        var gx = [Float](repeating: 0, count: x.count), gw = [Float](repeating: 0, count: 5), gb = gw, ref = gx
        for i in 0..<x.count {
            let ch = (i / 12) % 5
            let inv = 1 / (variance.data[ch] + 1e-3).squareRoot()
            ref[i] = (x.data[i] - mean.data[ch]) * inv * weight.data[ch] + bias.data[ch]
            gx[i] = gOut.data[i] * inv * weight.data[ch]
            gw[ch] += gOut.data[i] * (x.data[i] - mean.data[ch]) * inv
            gb[ch] += gOut.data[i]
        }
        assertClose(y.scalars, ref, "batch norm forward")
        assertClose(x.grad!.scalars, gx, "batch norm dx")
        assertClose(weight.grad!.scalars, gw, "batch norm dweight")
        assertClose(bias.grad!.scalars, gb, "batch norm dbias")
    }
}
