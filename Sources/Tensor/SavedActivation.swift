/// An activation an op keeps for its backward pass. In bf16 mode (`BLAS.precision == .bf16`)
/// it is kept rounded to bfloat16, half the memory, as mixed-precision training keeps
/// activations: the products of the backward round their operands to bfloat16 anyway, so for
/// them nothing is lost; elementwise derivatives (GELU's, a scale's) see the rounded value.
/// In fp32 mode it is the tensor itself (shared storage, no copy).
struct SavedActivation {
    private let full: Tensor?
    private let rounded: BFloat16.Buffer?
    private let shape: [Int]

    /// `rounded`: `tensor` already rounded to bfloat16 (an op that rounded it for its own
    /// products), kept instead of rounding it again.
    init(_ tensor: Tensor, rounded alreadyRounded: BFloat16.Buffer? = nil) {
        shape = tensor.shape
        if BLAS.precision == .bf16 {
            (full, rounded) = (nil, alreadyRounded ?? BFloat16.rounded(tensor.data, count: tensor.count))
        } else {
            (full, rounded) = (tensor.detached(), nil)
        }
    }

    /// The kept bfloat16 values (bf16 mode), for products that take rounded operands.
    var roundedValues: UnsafePointer<UInt16>? { rounded.map { UnsafePointer($0.pointer) } }

    /// The kept values as fp32 (a new tensor when they were kept rounded).
    func restored() -> Tensor {
        if let full { return full }
        let out = Tensor(uninitializedShape: shape)
        BFloat16.expand(rounded!.pointer, count: out.count, into: out.data)
        return out
    }
}
