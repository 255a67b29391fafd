import Tensor

/// AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights directly,
/// computed in the same order as `torch.optim.AdamW` so results match it to rounding.
public final class AdamW: Optimizer {
    public let groups: [ParameterGroup]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public private(set) var stepCount = 0
    /// First and second moments per parameter, created on its first update.
    private var moments: [ObjectIdentifier: (m: Tensor, v: Tensor)] = [:]

    public init(_ groups: [ParameterGroup], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(learningRate >= 0, "AdamW: learning rate \(learningRate) must be ≥ 0")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "AdamW: betas (\(beta1), \(beta2)) must be in [0, 1)")
        self.groups = groups
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.epsilon) = (beta1, beta2, epsilon)
    }

    public func exportState(names: [(name: String, tensor: Tensor)]) -> [String: Tensor] {
        var state: [String: Tensor] = ["step": Tensor(scalar: Float(stepCount))]
        for (name, p) in names {
            guard let moment = moments[ObjectIdentifier(p)] else { continue }
            state["\(name).exp_avg"] = moment.m
            state["\(name).exp_avg_sq"] = moment.v
        }
        return state
    }

    public func importState(_ state: [String: Tensor], names: [(name: String, tensor: Tensor)]) throws {
        guard let step = state["step"] else { throw OptimizerStateError("AdamW state has no 'step'") }
        stepCount = Int(step.item)
        moments = [:]
        for (name, p) in names {
            guard let m = state["\(name).exp_avg"], let v = state["\(name).exp_avg_sq"] else { continue }
            guard m.shape == p.shape, v.shape == p.shape else {
                throw OptimizerStateError("AdamW state for '\(name)' has shape \(m.shape), parameter has \(p.shape)")
            }
            moments[ObjectIdentifier(p)] = (m.copy(), v.copy())
        }
    }

    public func step() {
        stepCount += 1
        let t = Float(stepCount)
        let correction1 = 1 - Foundation.pow(beta1, t), correction2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let decay = 1 - lr * group.weightDecay
            let stepSize = lr / correction1
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let state = moments[ObjectIdentifier(p)] ?? (Tensor.zeros(p.shape), Tensor.zeros(p.shape))
                moments[ObjectIdentifier(p)] = state
                let w = p.data, gs = g.data, m = state.m.data, v = state.v.data
                for i in 0..<p.count {
                    w[i] *= decay
                    m[i] = beta1 * m[i] + (1 - beta1) * gs[i]
                    v[i] = beta2 * v[i] + (1 - beta2) * gs[i] * gs[i]
                    w[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
                }
            }
        }
    }
}

import Foundation
