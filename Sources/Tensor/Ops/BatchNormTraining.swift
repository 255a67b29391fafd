/// BatchNorm in training form (`F.batch_norm(training=True)`) over axis 1 of an NCHW (or NC)
/// tensor: each channel is normalised with the statistics of the batch itself (mean and
/// population variance over samples and positions), then scaled and shifted. Dense heads train
/// their conv–BN–ReLU modules this way (UPerNet, FCN).
///
/// Composed of engine ops, so the gradient — which flows through the batch statistics too — is
/// theirs. Returns the batch mean and the *unbiased* variance as well: PyTorch updates the
/// running statistics with those (`running = (1 − momentum)·running + momentum·batch`,
/// `updateRunningStatistics`).
public func batchNormTraining(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> (output: Tensor, mean: Tensor, unbiasedVariance: Tensor) {
    precondition(x.rank >= 2, "batchNormTraining: input must be [N, C, …], got \(x.shape)")
    let c = x.shape[1]
    let perChannel = x.count / max(c, 1)
    precondition(perChannel > 1, "batchNormTraining: needs more than one value per channel, got input \(x.shape)")
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if let t { precondition(t.shape == [c], "batchNormTraining: \(name) \(t.shape) != [\(c)] for input \(x.shape)") }
    }
    let dims = [0] + Array(2..<x.rank)
    let broadcast = [1, c] + Array(repeating: 1, count: x.rank - 2)
    let mean = x.mean(dims: dims, keepDims: true)
    let variance = x.variance(dims: dims, correction: 0, keepDims: true)
    var y = (x - mean) / (variance + eps).sqrt()
    if let weight { y = y * weight.reshaped(broadcast) }
    if let bias { y = y + bias.reshaped(broadcast) }
    let batchMean = withoutGradients { mean.reshaped([c]).detached() }
    let unbiased = withoutGradients { (variance * (Float(perChannel) / Float(perChannel - 1))).reshaped([c]).detached() }
    return (y, batchMean, unbiased)
}

/// PyTorch's running-statistics update after a training-mode BatchNorm step, in place:
/// `running = (1 − momentum)·running + momentum·batch` (momentum 0.1 by default).
public func updateRunningStatistics(mean running: Tensor, variance runningVariance: Tensor,
                                    batchMean: Tensor, batchUnbiasedVariance: Tensor, momentum: Float = 0.1) {
    precondition(running.shape == batchMean.shape && runningVariance.shape == batchUnbiasedVariance.shape,
                 "updateRunningStatistics: running \(running.shape)/\(runningVariance.shape) vs batch \(batchMean.shape)/\(batchUnbiasedVariance.shape)")
    for i in 0..<running.count {
        running.data[i] = (1 - momentum) * running.data[i] + momentum * batchMean.data[i]
        runningVariance.data[i] = (1 - momentum) * runningVariance.data[i] + momentum * batchUnbiasedVariance.data[i]
    }
}
