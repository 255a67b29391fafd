import Models
import NN
import Tensor

extension BatchNorm2d {
    /// `nn.BatchNorm2d` in either mode: in training, the batch's statistics normalise and the
    /// running ones take PyTorch's momentum-0.1 step (unbiased variance); in evaluation, the
    /// running ones normalise. Heads and necks train their BatchNorms; backbones never do.
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        guard training else { return self(x) }
        let step = batchNormTraining(x, weight: weight, bias: bias, eps: eps)
        updateRunningStatistics(mean: runningMean, variance: runningVar,
                                batchMean: step.mean, batchUnbiasedVariance: step.unbiasedVariance)
        return step.output
    }
}
