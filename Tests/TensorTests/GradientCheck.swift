import Tensor
import XCTest

/// Finite-difference gradient check.
///
/// For a function f of several tensors, the scalar L = Σ f(x)·r (r a fixed random tensor,
/// accumulated in Double) is differentiated by the engine and by central differences
/// (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε for every element of every checked input.
/// Tolerance: |analytic − numeric| ≤ atol + rtol·|numeric| with ε = 1e-2, rtol = 2e-2,
/// atol = 2e-3 by default. The Float32 forward limits how tight this can be (rounding error
/// ≈ 1e-7·|L|/ε), and the loosest tolerance still catches a wrong formula: a missing factor
/// or sign moves the gradient by far more. The PyTorch parity tests check the same ops to 1e-5.
func checkGradients(_ name: String, inputs: [Tensor], checking: Set<Int>? = nil, epsilon: Float = 1e-2,
                    rtol: Float = 2e-2, atol: Float = 2e-3, seed: UInt64 = 7,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    if let mismatch = gradientMismatch(name, inputs: inputs, checking: checking, epsilon: epsilon, rtol: rtol, atol: atol, seed: seed, f) {
        XCTFail(mismatch, file: file, line: line)
    }
}

/// The first element whose analytic and numeric gradients disagree, described; nil if none.
func gradientMismatch(_ name: String, inputs: [Tensor], checking: Set<Int>? = nil, epsilon: Float = 1e-2,
                      rtol: Float = 2e-2, atol: Float = 2e-3, seed: UInt64 = 7, _ f: ([Tensor]) -> Tensor) -> String? {
    let checked = checking ?? Set(inputs.indices)
    for (i, t) in inputs.enumerated() where checked.contains(i) {
        t.requiresGrad = true
        t.grad = nil
    }
    let probe = f(inputs)
    var rng = SeededRandom(seed: seed)
    let r = Tensor.normal(probe.shape, using: &rng)
    func loss() -> Double {
        let out = withoutGradients { f(inputs) }
        var acc: Double = 0
        for i in 0..<out.count { acc += Double(out.data[i]) * Double(r.data[i]) }
        return acc
    }
    probe.backward(r)
    for i in checked.sorted() {
        let x = inputs[i]
        guard let grad = x.grad else { return "\(name): input \(i) got no gradient" }
        for j in 0..<x.count {
            let saved = x.data[j]
            x.data[j] = saved + epsilon
            let plus = loss()
            x.data[j] = saved - epsilon
            let minus = loss()
            x.data[j] = saved
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            let analytic = grad.data[j]
            if Swift.abs(analytic - numeric) > atol + rtol * Swift.abs(numeric) {
                return "\(name): d/d input\(i)[\(j)] analytic \(analytic) vs numeric \(numeric)"
            }
        }
    }
    return nil
}

/// Seeded random inputs for the checks.
struct Inputs {
    var rng = SeededRandom(seed: 2024)
    mutating func normal(_ shape: [Int], scale: Float = 1) -> Tensor { Tensor.normal(shape, std: scale, using: &rng) }
    mutating func positive(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, low: 0.5, high: 2, using: &rng) }
    /// Values at least `margin` away from the kinks at 0 (and 6, for relu6).
    mutating func awayFromKinks(_ shape: [Int], margin: Float = 0.05) -> Tensor {
        let t = Tensor.uniform(shape, low: -8, high: 8, using: &rng)
        for i in 0..<t.count {
            for kink: Float in [0, 6] where Swift.abs(t.data[i] - kink) < margin { t.data[i] = kink + (t.data[i] < kink ? -margin : margin) * 2 }
        }
        return t
    }
}
