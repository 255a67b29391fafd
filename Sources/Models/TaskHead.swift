import NN
import Tensor

/// A task head that replaces a backbone's classifier (a dense-prediction decoder such as
/// UPerNet): what a PEFT model needs to train it beside the method. Its tensors always train
/// and are not counted as the method's parameters, as the paper counts; its buffers (BatchNorm
/// running statistics) are saved with adapters and checkpoints.
public protocol TaskHead: AnyObject {
    /// Output classes.
    var classes: Int { get }
    /// The backbone whose features it reads (the PEFT model's backbone must be this one).
    var featureBackbone: any Backbone { get }
    /// The head's own parameters, with names that do not collide with the backbone's.
    var headParameters: [(name: String, tensor: Tensor)] { get }
    /// State that is not trained but shapes the function (BatchNorm running statistics).
    var headBuffers: [(name: String, tensor: Tensor)] { get }
    /// Training mode (batch statistics, updating the running ones) or evaluation mode.
    func setTraining(_ training: Bool)
}
