import Tensor

/// LoRand's multi-branch low-rank linear map, y = x·(Σ_i P_i K_i Q_i) + b with P_i [in, k],
/// K_i [k, k], Q_i [k, out] (LoRand and E3VA's highway adapters).
struct FactorisedLinear {
    let parts: [(p: Tensor, k: Tensor, q: Tensor)]
    let bias: Tensor

    func callAsFunction(_ x: Tensor) -> Tensor {
        let products = parts.map { matmul(matmul($0.p, $0.k), $0.q) }               // each [in, out]
        let weight = products.dropFirst().reduce(products[0], +)
        return matmul(x, weight) + bias
    }

    /// Registers `<prefix>.P.i`, `.K.i`, `.Q.i` for each of `branches` products (kaiming-uniform as
    /// PyTorch's default, drawn in that order; the K factors zero with `zeroKernels`) and a zero
    /// `<prefix>.bias`.
    static func register(_ prefix: String, in model: PEFTModel, _ inFeatures: Int, _ outFeatures: Int,
                         branches: Int, kernel: Int, zeroKernels: Bool = false, using rng: inout SeededRandom) -> FactorisedLinear {
        func factor(_ name: String, _ shape: [Int], zero: Bool = false) -> Tensor {
            model.register("\(prefix).\(name)", zero ? Tensor.zeros(shape) : Initialiser.kaimingUniform(shape, fanIn: shape[1], using: &rng))
        }
        let parts = (0..<branches).map { i in
            (p: factor("P.\(i)", [inFeatures, kernel]), k: factor("K.\(i)", [kernel, kernel], zero: zeroKernels), q: factor("Q.\(i)", [kernel, outFeatures]))
        }
        return FactorisedLinear(parts: parts, bias: model.register("\(prefix).bias", Tensor.zeros([outFeatures])))
    }

    /// The options both methods share: α products of inner size k.
    static func validate(branches: Int, kernel: Int, method: String) throws {
        try MethodOptionError.require(branches > 0, method, "branches", branches, "must be positive")
        try MethodOptionError.require(kernel > 0, method, "kernel", kernel, "must be positive")
    }
}

/// A(z) = up(GELU(down z)) with factorised maps: LoRand's adapter body, E3VA's highway adapter.
struct FactorisedBottleneck {
    let down: FactorisedLinear, up: FactorisedLinear
    func callAsFunction(_ z: Tensor) -> Tensor { up(down(z).gelu()) }
}
