import NN
import Tensor

/// A head built from conv–BN–ReLU modules (plus plain layers): what training mode and state
/// dicts need beyond `Module` — its BatchNorm statistics, which are buffers, not parameters.
public protocol HeadModule: Module {
    /// Every conv–BN–ReLU module with its name relative to this head.
    var convModules: [(name: String, module: ConvNormReLU)] { get }
}

extension HeadModule {
    /// The BatchNorm running statistics (`….batch_norm.running_mean` / `running_var`).
    public var namedBuffers: [(name: String, tensor: Tensor)] {
        convModules.flatMap { conv in conv.module.namedBuffers.map { ("\(conv.name).\($0.name)", $0.tensor) } }
    }

    /// Training mode: BatchNorm on batch statistics, updating the running ones.
    public func setTraining(_ training: Bool) {
        for conv in convModules { conv.module.training = training }
    }
}
