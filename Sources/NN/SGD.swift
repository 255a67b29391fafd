import Tensor

/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, in the
/// order of `torch.optim.SGD` (decay added to the gradient; the first momentum buffer is the
/// gradient itself).
public final class SGD: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let momentum: Float, dampening: Float, nesterov: Bool
    private var buffers: [ObjectIdentifier: Tensor] = [:]

    public init(_ groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0, "SGD: learning rate \(learningRate) and momentum \(momentum) must be ≥ 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and no dampening")
        self.groups = groups
        self.learningRate = learningRate
        (self.momentum, self.dampening, self.nesterov) = (momentum, dampening, nesterov)
    }

    public func exportState(names: [(name: String, tensor: Tensor)]) -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (name, p) in names { if let b = buffers[ObjectIdentifier(p)] { state["\(name).momentum_buffer"] = b } }
        return state
    }

    public func importState(_ state: [String: Tensor], names: [(name: String, tensor: Tensor)]) throws {
        buffers = [:]
        for (name, p) in names {
            guard let b = state["\(name).momentum_buffer"] else { continue }
            guard b.shape == p.shape else { throw OptimizerStateError("SGD state for '\(name)' has shape \(b.shape), parameter has \(p.shape)") }
            buffers[ObjectIdentifier(p)] = b.copy()
        }
    }

    public func step() {
        for group in groups {
            let lr = learningRate * group.learningRateScale, wd = group.weightDecay
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let w = p.data, gs = g.data
                if momentum == 0 {
                    for i in 0..<p.count { w[i] -= lr * (gs[i] + wd * w[i]) }
                    continue
                }
                let key = ObjectIdentifier(p)
                let first = buffers[key] == nil
                let buffer = buffers[key] ?? Tensor.zeros(p.shape)
                buffers[key] = buffer
                let b = buffer.data
                for i in 0..<p.count {
                    let d = gs[i] + wd * w[i]
                    b[i] = first ? d : momentum * b[i] + (1 - dampening) * d
                    w[i] -= lr * (nesterov ? d + momentum * b[i] : b[i])
                }
            }
        }
    }
}
