import Tensor

/// Tensors that share optimiser settings (e.g. no weight decay on biases and norms).
public struct ParameterGroup {
    public var parameters: [Tensor]
    public var weightDecay: Float
    /// Multiplies the schedule's learning rate for this group.
    public var learningRateScale: Float

    public init(_ parameters: [Tensor], weightDecay: Float, learningRateScale: Float = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }
}

/// An optimiser updates its groups' tensors in place from their `.grad`.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    /// The current base learning rate (set by the schedule before each step).
    var learningRate: Float { get set }
    /// One update; tensors without a gradient are skipped (as PyTorch does).
    func step()
    /// The optimiser's state (moments, step count) for a checkpoint, keyed by parameter names.
    func exportState(names: [(name: String, tensor: Tensor)]) -> [String: Tensor]
    /// Restores what `exportState` wrote, so training resumes bit-identically.
    func importState(_ state: [String: Tensor], names: [(name: String, tensor: Tensor)]) throws
}

/// A checkpoint's optimiser state does not fit the parameters.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Optimizer {
    public var parameters: [Tensor] { groups.flatMap(\.parameters) }

    public func zeroGrad() {
        for p in parameters { p.grad = nil }
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (as
/// `torch.nn.utils.clip_grad_norm_`, including its 1e-6 guard). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientNorm: maxNorm \(maxNorm) must be positive")
    var total: Double = 0
    for p in parameters { if let g = p.grad { for i in 0..<g.count { total += Double(g.data[i]) * Double(g.data[i]) } } }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters { if let g = p.grad { for i in 0..<g.count { g.data[i] *= coefficient } } }
    }
    return norm
}
