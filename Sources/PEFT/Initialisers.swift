import Tensor

/// The initialisations PEFT methods name, as PyTorch defines them.
enum Initialiser {
    /// `nn.init.kaiming_uniform_(a=√5)` — PyTorch's default for Linear/Conv weights: U(±1/√fan_in).
    static func kaimingUniform(_ shape: [Int], fanIn: Int, using rng: inout SeededRandom) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, using: &rng)
    }

    /// `nn.init.xavier_uniform_`: U(±√(6 / (fan_in + fan_out))).
    static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, using rng: inout SeededRandom) -> Tensor {
        let bound = (6 / Float(fanIn + fanOut)).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, using: &rng)
    }

    /// A new `nn.Linear(in, out)` as PyTorch initialises it: weight and bias U(±1/√in).
    static func pytorchLinear(_ inFeatures: Int, _ outFeatures: Int, using rng: inout SeededRandom) -> (weight: Tensor, bias: Tensor) {
        (kaimingUniform([outFeatures, inFeatures], fanIn: inFeatures, using: &rng),
         kaimingUniform([outFeatures], fanIn: inFeatures, using: &rng))
    }
}
