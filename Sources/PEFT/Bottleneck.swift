import NN
import Tensor

/// down → activation → dropout → up: the small MLP inside adapter-family methods.
final class Bottleneck {
    let down: Linear
    let up: Linear
    let activation: Activation
    let dropoutRate: Float
    let dropout: DropoutSource

    /// Registers `<prefix>.down.{weight,bias}` and `<prefix>.up.{weight,bias}` on `model`.
    init(_ model: PEFTModel, prefix: String, dim: Int, hidden: Int, activation: Activation, dropout: Float,
         down: (weight: Tensor, bias: Tensor), up: (weight: Tensor, bias: Tensor)) {
        self.down = Linear(weight: model.register("\(prefix).down.weight", down.weight, role: .linearWeight),
                           bias: model.register("\(prefix).down.bias", down.bias, role: .linearBias))
        self.up = Linear(weight: model.register("\(prefix).up.weight", up.weight, role: .linearWeight),
                         bias: model.register("\(prefix).up.bias", up.bias, role: .linearBias))
        self.activation = activation
        self.dropoutRate = dropout
        self.dropout = model.dropout
        precondition(down.weight.shape == [hidden, dim] && up.weight.shape == [dim, hidden], "Bottleneck: shapes do not fit \(dim)→\(hidden)→\(dim)")
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        up(dropout(activation(down(x)), dropoutRate))
    }
}
