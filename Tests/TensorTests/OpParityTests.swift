import Foundation
import Tensor
import XCTest

/// Every op family against PyTorch: forward outputs and the gradients of sum(out · gout).
final class OpParityTests: XCTestCase {
    func testElementwise() throws { try runFamily("elementwise") }
    func testReductions() throws { try runFamily("reductions") }
    func testLinearAlgebra() throws { try runFamily("linalg") }
    func testNeuralNetworkOps() throws { try runFamily("nn") }
    func testTransposedConvolution() throws { try runFamily("conv_transpose") }
    func testMaxPooling() throws { try runFamily("max_pool") }
    func testViews() throws { try runFamily("views") }
    func testSwinWindowOps() throws { try runFamily("windows") }
    func testDenseHeadOps() throws { try runFamily("dense") }

    /// The load-time resize (no matrix-product kernels, Double sums) on every resize case:
    /// PyTorch's values at the tight tolerance, whatever the CPU.
    func testResizeExactlyMatchesPyTorch() throws {
        let cases = try ["nn", "linalg", "views"].flatMap { try Fixtures.cases($0) }.filter { $0.op == "resize" }
        XCTAssertGreaterThan(cases.count, 2, "no resize fixture cases")
        for c in cases {
            let size = c.params["size"] as! [Int]
            let out = resizeExactly(c.inputs[0], to: (size[0], size[1]), filter: ResizeFilter(rawValue: c.params["mode"] as! String)!, antialias: c.bool("antialias"))
            assertClose(out, c["out"]!, rtol: 1e-5, atol: 1e-6, "\(c.name) resizeExactly")
        }
    }

    private func runFamily(_ family: String) throws {
        let cases = try Fixtures.cases(family)
        XCTAssertGreaterThan(cases.count, 5, "\(family): no fixture cases")
        for c in cases { try check(c) }
    }

    /// Inputs that PyTorch gave no gradient are constants here too.
    private func check(_ c: FixtureCase) throws {
        let inputs = c.inputs
        for (i, t) in inputs.enumerated() where c["grad\(i)"] != nil { t.requiresGrad = true }
        let out = apply(c, inputs)
        let expected = try XCTUnwrap(c["out"], "\(c.name): no out")
        // Attention and resize go through BLAS with other summation orders: a little looser.
        let loose = ["attention", "attention_probs", "window_attention", "resize", "adaptive_avg_pool2d", "batch_norm_train", "conv2d", "conv_transpose2d", "matmul", "linear", "kron"].contains(c.op)
        let rtol: Float = loose ? 2e-5 : 1e-5, atol: Float = loose ? 2e-6 : 1e-6
        assertClose(out, expected, rtol: rtol, atol: atol, "\(c.name) (\(c.op)) forward")
        guard let gout = c["gout"] else { return }
        out.backward(gout.reshaped(out.shape))
        for (i, t) in inputs.enumerated() {
            guard let expectedGrad = c["grad\(i)"] else { continue }
            guard let grad = t.grad else { XCTFail("\(c.name) (\(c.op)): no gradient for in\(i)"); continue }
            assertClose(grad, expectedGrad, rtol: rtol * 2, atol: atol * 2, "\(c.name) (\(c.op)) grad of in\(i)")
        }
    }

    /// Maps a fixture op to the engine's API.
    private func apply(_ c: FixtureCase, _ x: [Tensor]) -> Tensor {
        switch c.op {
        case "neg": return -x[0]
        case "exp": return x[0].exp()
        case "log": return x[0].log()
        case "sqrt": return x[0].sqrt()
        case "abs": return x[0].abs()
        case "tanh": return x[0].tanh()
        case "sigmoid": return x[0].sigmoid()
        case "relu": return x[0].relu()
        case "relu6": return x[0].relu6()
        case "gelu": return x[0].gelu()
        case "quick_gelu": return x[0].quickGelu()
        case "silu": return x[0].silu(beta: c.float("beta"))
        case "pow": return x[0].pow(c.float("exponent"))
        case "add_scalar": return x[0] + c.float("value")
        case "mul_scalar": return x[0] * c.float("value")
        case "add": return x[0] + x[1]
        case "sub": return x[0] - x[1]
        case "mul": return x[0] * x[1]
        case "div": return x[0] / x[1]
        case "where": return `where`(x[0], x[1], x[2])
        case "sum": return x[0].sum(dims: c.ints("dims"), keepDims: c.bool("keepdim"))
        case "mean": return x[0].mean(dims: c.ints("dims"), keepDims: c.bool("keepdim"))
        case "max": return x[0].max(dims: c.ints("dims"), keepDims: c.bool("keepdim"))
        case "var": return x[0].variance(dims: c.ints("dims"), correction: c.int("correction"), keepDims: c.bool("keepdim"))
        case "matmul": return matmul(x[0], x[1], transposeA: c.bool("trans_a"), transposeB: c.bool("trans_b"))
        case "linear": return linear(x[0], x[1], c.bool("bias") ? x[2] : nil)
        case "kron": return kron(x[0], x[1])
        case "layer_norm": return layerNorm(x[0], weight: x[1], bias: x[2], eps: c.float("eps"))
        case "softmax": return x[0].softmax(dim: c.int("dim"))
        case "log_softmax": return x[0].logSoftmax(dim: c.int("dim"))
        case "attention":
            return attention(x[0], x[1], x[2], extraKeys: c.bool("extra") ? x[3] : nil, extraValues: c.bool("extra") ? x[4] : nil,
                             scale: c.float("scale"))
        case "attention_probs":
            return attentionProbabilities(x[0], x[1], extraKeys: c.bool("extra") ? x[3] : nil, scale: c.float("scale"))
        case "cross_entropy":
            return crossEntropy(x[0], targets: x[1].scalars.map { Int($0) }, labelSmoothing: c.float("label_smoothing"))
        case "batch_norm":
            return batchNormInference(x[0], runningMean: x[1], runningVar: x[2], weight: x[3], bias: x[4], eps: c.float("eps"))
        case "conv2d":
            let stride = c.ints("stride")
            let padding: Padding = (c.params["padding"] as? String) == "same" ? .same : .symmetric(c.ints("padding")[0], c.ints("padding")[1])
            return conv2d(x[0], x[1], c.bool("bias") ? x[2] : nil, stride: (stride[0], stride[1]), padding: padding, groups: c.int("groups"))
        case "conv_transpose2d":
            let (s, p, op) = (c.ints("stride"), c.ints("padding"), c.ints("output_padding"))
            return conv2dTransposed(x[0], x[1], c.bool("bias") ? x[2] : nil, stride: (s[0], s[1]), padding: (p[0], p[1]),
                                    outputPadding: (op[0], op[1]), groups: c.int("groups"))
        case "avg_pool2d":
            let k = c.ints("kernel"), s = c.ints("stride"), p = c.ints("padding")
            return avgPool2d(x[0], kernel: (k[0], k[1]), stride: (s[0], s[1]), padding: .symmetric(p[0], p[1]),
                             countIncludePad: c.bool("count_include_pad"))
        case "max_pool2d":
            let k = c.ints("kernel"), s = c.ints("stride")
            return maxPool2d(x[0], kernel: (k[0], k[1]), stride: (s[0], s[1]))
        case "global_avg_pool": return globalAvgPool(x[0])
        case "adaptive_avg_pool2d":
            let size = c.ints("size")
            return adaptiveAvgPool2d(x[0], to: (size[0], size[1]))
        case "batch_norm_train": return batchNormTraining(x[0], weight: x[1], bias: x[2], eps: c.float("eps")).output
        case "pixel_cross_entropy": return pixelCrossEntropy(x[0], targets: x[1].scalars.map { Int($0) }, ignoreIndex: c.int("ignore_index"))
        case "batch_norm_running":
            let batch = batchNormTraining(x[0], weight: nil, bias: nil, eps: c.float("eps"))
            let (mean, variance) = (x[1].copy(), x[2].copy())
            updateRunningStatistics(mean: mean, variance: variance, batchMean: batch.mean, batchUnbiasedVariance: batch.unbiasedVariance,
                                    momentum: c.float("momentum"))
            return concat([mean.reshaped([1, -1]), variance.reshaped([1, -1])], dim: 0)
        case "resize":
            let size = c.ints("size")
            return resize(x[0], to: (size[0], size[1]), filter: ResizeFilter(rawValue: c.params["mode"] as! String)!, antialias: c.bool("antialias"))
        case "permute": return x[0].permuted(c.ints("dims"))
        case "narrow": return x[0].narrowed(c.int("dim"), start: c.int("start"), length: c.int("length"))
        case "cat": return concat(x, dim: c.int("dim"))
        case "expand": return x[0].expanded(to: c.ints("shape"))
        case "index_select": return x[0].indexSelect(x[1].scalars.map { Int($0) }, dim: c.int("dim"))
        case "reshape": return x[0].reshaped(c.ints("shape"))
        case "roll": return x[0].rolled(c.ints("shifts"), dims: c.ints("dims"))
        case "pad": return x[0].padded(dim: c.int("dim"), before: c.int("before"), after: c.int("after"))
        case "window_partition": return windowPartition(x[0], window: c.int("window"))
        case "window_reverse": return windowReverse(x[0], window: c.int("window"), height: c.int("height"), width: c.int("width"))
        case "space_to_depth_2x2": return spaceToDepth2x2(x[0])
        case "window_attention":
            return windowAttention(x[0], heads: c.int("heads"), scale: c.float("scale"), bias: x[1], mask: c.bool("masked") ? x[2] : nil)
        default:
            XCTFail("\(c.name): unknown op \(c.op)")
            return x[0]
        }
    }
}
