import Foundation

/// Elementwise functions of one tensor. Each records a backward that saves exactly one of
/// {input, output}: whichever its derivative is cheapest in.
extension Tensor {
    private enum Saved { case input, output }

    /// Shared driver: forward through a vectorised `f`; backward computes dx = df(saved, g).
    private func unary(_ op: String, saving saved: Saved, _ f: (Vec) -> Vec,
                       derivative df: @escaping (_ saved: Vec, _ g: Vec) -> Vec) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        mapVectorised(data, out.data, count, f)
        if Tensor.needsGraph([self]) {
            let keep = saved == .input ? detached() : out.detached()
            out.record(op, [self]) { g in
                let dx = Tensor(uninitializedShape: keep.shape)
                zipVectorised(keep.data, g.data, dx.data, dx.count, df)
                return [dx]
            }
        }
        return out
    }

    /// Scalar-libm driver for functions without a vectorised kernel (cold paths); `df` is f′(x).
    private func unaryScalar(_ op: String, _ f: @escaping (Float) -> Float, derivative df: @escaping (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let src = data, dst = out.data
        Parallel.chunks(count, grain: 8192) { r in for i in r { dst[i] = f(src[i]) } }
        if Tensor.needsGraph([self]) {
            let x = detached()
            out.record(op, [self]) { g in
                let dx = Tensor(uninitializedShape: x.shape)
                let xs = x.data, gs = g.data, d = dx.data
                Parallel.chunks(dx.count, grain: 8192) { r in for i in r { d[i] = gs[i] * df(xs[i]) } }
                return [dx]
            }
        }
        return out
    }

    public func neg() -> Tensor { unary("neg", saving: .input, { -$0 }, derivative: { _, g in -g }) }
    public func exp() -> Tensor { unary("exp", saving: .output, vexp, derivative: { y, g in g * y }) }
    public func log() -> Tensor {
        unaryScalar("log", { Foundation.log($0) }, derivative: { x in 1 / x })
    }
    public func sqrt() -> Tensor { unary("sqrt", saving: .output, { $0.squareRoot() }, derivative: { y, g in g * 0.5 / y }) }
    public func abs() -> Tensor {
        unary("abs", saving: .input, vabs, derivative: { x, g in
            Vec(repeating: 0).replacing(with: g, where: x .> 0).replacing(with: -g, where: x .< 0)
        })
    }
    public func tanh() -> Tensor {
        unaryScalar("tanh", { Foundation.tanh($0) }, derivative: { x in let t = Foundation.tanh(x); return 1 - t * t })
    }
    public func sigmoid() -> Tensor { unary("sigmoid", saving: .output, vsigmoid, derivative: { y, g in g * y * (1 - y) }) }
    public func relu() -> Tensor {
        unary("relu", saving: .output, { $0.replacing(with: 0, where: $0 .< 0) },
              derivative: { y, g in g.replacing(with: 0, where: y .<= 0) })
    }
    public func relu6() -> Tensor {
        unary("relu6", saving: .input, { $0.clamped(lowerBound: Vec(repeating: 0), upperBound: Vec(repeating: 6)) },
              derivative: { x, g in g.replacing(with: 0, where: (x .<= 0) .| (x .>= 6)) })
    }
    /// GELU in its exact form x·Φ(x), as timm's default `nn.GELU()`.
    public func gelu() -> Tensor {
        unary("gelu", saving: .input, { $0 * vnormalCDF($0) }, derivative: { x, g in
            g * (vnormalCDF(x) + x * vexp(-0.5 * x * x) * 0.398_942_280_401_432_7)
        })
    }
    /// QuickGELU, x·σ(1.702x) (CLIP, Convpass).
    public func quickGelu() -> Tensor { silu(beta: 1.702) }
    /// Swish x·σ(βx); β = 1 is SiLU.
    public func silu(beta: Float = 1) -> Tensor {
        unary(beta == 1 ? "silu" : "swish", saving: .input, { $0 * vsigmoid(beta * $0) }, derivative: { x, g in
            let s = vsigmoid(beta * x)
            return g * (s + beta * x * s * (1 - s))
        })
    }
    public func pow(_ exponent: Float) -> Tensor {
        unaryScalar("pow", { Foundation.pow($0, exponent) }, derivative: { x in exponent * Foundation.pow(x, exponent - 1) })
    }
    public func squared() -> Tensor { unary("square", saving: .input, { $0 * $0 }, derivative: { x, g in 2 * x * g }) }
    public func adding(_ value: Float) -> Tensor { unary("add_scalar", saving: .input, { $0 + value }, derivative: { _, g in g }) }
    public func scaled(by value: Float) -> Tensor { unary("mul_scalar", saving: .input, { $0 * value }, derivative: { _, g in g * value }) }
}

public prefix func - (x: Tensor) -> Tensor { x.neg() }
public func + (x: Tensor, s: Float) -> Tensor { x.adding(s) }
public func + (s: Float, x: Tensor) -> Tensor { x.adding(s) }
public func - (x: Tensor, s: Float) -> Tensor { x.adding(-s) }
public func * (x: Tensor, s: Float) -> Tensor { x.scaled(by: s) }
public func * (s: Float, x: Tensor) -> Tensor { x.scaled(by: s) }
public func / (x: Tensor, s: Float) -> Tensor { x.scaled(by: 1 / s) }
