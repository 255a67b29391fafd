import Foundation

/// Elementwise functions of one tensor. Each kernel is a small value type; the generic driver
/// is specialised per kernel, so its loops compile to vector code.
protocol UnaryKernel {
    static var name: String { get }
    /// What the derivative is written in terms of: the input, the output, or nothing (a
    /// constant, so the backward keeps no activation alive).
    static var derivativeOperand: DerivativeOperand { get }
    @inline(__always) func value(_ x: Float) -> Float
    /// f′ at the saved value (input or output; ignored when constant).
    @inline(__always) func derivative(_ saved: Float) -> Float
}

enum DerivativeOperand { case input, output, constant }

extension UnaryKernel {
    static var derivativeOperand: DerivativeOperand { .input }
}

extension Tensor {
    func apply<K: UnaryKernel>(_ kernel: K) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let src = data, dst = out.data
        Parallel.chunks(count, grain: 16_384) { r in for i in r { dst[i] = kernel.value(src[i]) } }
        if Tensor.needsGraph([self]) {
            let keep: SavedActivation? = switch K.derivativeOperand {
            case .input: SavedActivation(self)
            case .output: SavedActivation(out)
            case .constant: nil
            }
            out.record(K.name, [self]) { g in
                let dx = Tensor(uninitializedShape: g.shape)
                let gs = g.data, d = dx.data
                if let kept = keep?.restored() {
                    withExtendedLifetime(kept) {
                        let saved = kept.data
                        Parallel.chunks(dx.count, grain: 16_384) { r in for i in r { d[i] = gs[i] * kernel.derivative(saved[i]) } }
                    }
                } else {
                    let slope = kernel.derivative(0)
                    Parallel.chunks(dx.count, grain: 16_384) { r in for i in r { d[i] = gs[i] * slope } }
                }
                return [dx]
            }
        }
        return out
    }

    public func neg() -> Tensor { apply(Negate()) }
    public func exp() -> Tensor { apply(Exp()) }
    public func log() -> Tensor { apply(Log()) }
    public func sqrt() -> Tensor { apply(SquareRoot()) }
    public func abs() -> Tensor { apply(Absolute()) }
    public func tanh() -> Tensor { apply(Tanh()) }
    public func sigmoid() -> Tensor { apply(Sigmoid()) }
    public func relu() -> Tensor { apply(ReLU()) }
    public func relu6() -> Tensor { apply(ReLU6()) }
    /// GELU in its exact form x·Φ(x), as timm's default `nn.GELU()`.
    public func gelu() -> Tensor { apply(GELU()) }
    /// QuickGELU, x·σ(1.702x) (CLIP, Convpass).
    public func quickGelu() -> Tensor { apply(Swish(beta: 1.702)) }
    /// Swish x·σ(βx); β = 1 is SiLU.
    public func silu(beta: Float = 1) -> Tensor { apply(Swish(beta: beta)) }
    public func pow(_ exponent: Float) -> Tensor { apply(Power(exponent: exponent)) }
    public func squared() -> Tensor { apply(Power(exponent: 2)) }
    public func adding(_ value: Float) -> Tensor { apply(AddScalar(value: value)) }
    public func scaled(by value: Float) -> Tensor { apply(MultiplyScalar(value: value)) }
}

struct Negate: UnaryKernel {
    static let name = "neg"
    static let derivativeOperand = DerivativeOperand.constant
    @inline(__always) func value(_ x: Float) -> Float { -x }
    func derivative(_: Float) -> Float { -1 }
}

struct Exp: UnaryKernel {
    static let name = "exp"
    static let derivativeOperand = DerivativeOperand.output
    @inline(__always) func value(_ x: Float) -> Float { fastExp(x) }
    @inline(__always) func derivative(_ y: Float) -> Float { y }
}

struct Log: UnaryKernel {
    static let name = "log"
    @inline(__always) func value(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) func derivative(_ x: Float) -> Float { 1 / x }
}

struct SquareRoot: UnaryKernel {
    static let name = "sqrt"
    static let derivativeOperand = DerivativeOperand.output
    @inline(__always) func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func derivative(_ y: Float) -> Float { 0.5 / y }
}

struct Absolute: UnaryKernel {
    static let name = "abs"
    @inline(__always) func value(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func derivative(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

struct Tanh: UnaryKernel {
    static let name = "tanh"
    static let derivativeOperand = DerivativeOperand.output
    @inline(__always) func value(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) func derivative(_ y: Float) -> Float { 1 - y * y }
}

struct Sigmoid: UnaryKernel {
    static let name = "sigmoid"
    static let derivativeOperand = DerivativeOperand.output
    @inline(__always) func value(_ x: Float) -> Float { fastSigmoid(x) }
    @inline(__always) func derivative(_ y: Float) -> Float { y * (1 - y) }
}

struct ReLU: UnaryKernel {
    static let name = "relu"
    static let derivativeOperand = DerivativeOperand.output
    @inline(__always) func value(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) func derivative(_ y: Float) -> Float { y > 0 ? 1 : 0 }
}

struct ReLU6: UnaryKernel {
    static let name = "relu6"
    @inline(__always) func value(_ x: Float) -> Float { Swift.min(Swift.max(x, 0), 6) }
    @inline(__always) func derivative(_ x: Float) -> Float { x > 0 && x < 6 ? 1 : 0 }
}

struct GELU: UnaryKernel {
    static let name = "gelu"
    @inline(__always) func value(_ x: Float) -> Float { x * normalCDF(x) }
    @inline(__always) func derivative(_ x: Float) -> Float { normalCDF(x) + x * fastExp(-0.5 * x * x) * 0.398_942_280_401_432_7 }
}

struct Swish: UnaryKernel {
    static let name = "swish"
    let beta: Float
    @inline(__always) func value(_ x: Float) -> Float { x * fastSigmoid(beta * x) }
    @inline(__always) func derivative(_ x: Float) -> Float {
        let s = fastSigmoid(beta * x)
        return s + beta * x * s * (1 - s)
    }
}

struct Power: UnaryKernel {
    static let name = "pow"
    let exponent: Float
    @inline(__always) func value(_ x: Float) -> Float { exponent == 2 ? x * x : Foundation.pow(x, exponent) }
    @inline(__always) func derivative(_ x: Float) -> Float { exponent == 2 ? 2 * x : exponent * Foundation.pow(x, exponent - 1) }
}

struct AddScalar: UnaryKernel {
    static let name = "add_scalar"
    static let derivativeOperand = DerivativeOperand.constant
    let value: Float
    @inline(__always) func value(_ x: Float) -> Float { x + value }
    func derivative(_: Float) -> Float { 1 }
}

struct MultiplyScalar: UnaryKernel {
    static let name = "mul_scalar"
    static let derivativeOperand = DerivativeOperand.constant
    let value: Float
    @inline(__always) func value(_ x: Float) -> Float { x * value }
    func derivative(_: Float) -> Float { value }
}

public prefix func - (x: Tensor) -> Tensor { x.neg() }
public func + (x: Tensor, s: Float) -> Tensor { x.adding(s) }
public func + (s: Float, x: Tensor) -> Tensor { x.adding(s) }
public func - (x: Tensor, s: Float) -> Tensor { x.adding(-s) }
public func * (x: Tensor, s: Float) -> Tensor { x.scaled(by: s) }
public func * (s: Float, x: Tensor) -> Tensor { x.scaled(by: s) }
public func / (x: Tensor, s: Float) -> Tensor { x.scaled(by: 1 / s) }
