import Tensor

/// A layer that owns named parameters. Names are the layer's part of a timm `state_dict` key
/// (`weight`, `blocks.3.attn.qkv.weight`), so a checkpoint loads by name.
public protocol Module: AnyObject {
    /// Every parameter tensor, with its name relative to this module, in timm order.
    var namedParameters: [(name: String, tensor: Tensor)] { get }
}

extension Module {
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

    /// Freezes (or unfreezes) every parameter.
    public func setTrainable(_ trainable: Bool) {
        for (_, t) in namedParameters { t.requiresGrad = trainable }
    }
}

/// Names `child`'s parameters under `prefix` ("blocks.3" + "attn.qkv.weight").
public func prefixed(_ prefix: String, _ child: Module?) -> [(name: String, tensor: Tensor)] {
    guard let child else { return [] }
    return child.namedParameters.map { ("\(prefix).\($0.name)", $0.tensor) }
}

/// `nn.Linear`: y = x·Wᵀ + b, weight [out, in]. A PEFT site: see `LayerHook`.
public final class Linear: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public var hooks: [LayerHook] = []

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// PyTorch's default init: weight and bias uniform in ±1/√in (kaiming-uniform with a = √5).
    public convenience init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using rng: inout SeededRandom) {
        let bound = 1 / Float(inFeatures).squareRoot()
        self.init(weight: Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &rng),
                  bias: bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, using: &rng) : nil)
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        run(x, hooks: hooks) { linear($0, self.weight, self.bias) }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// `nn.LayerNorm` over the last axis. A PEFT site: see `LayerHook`.
public final class LayerNorm: Module {
    public var weight: Tensor
    public var bias: Tensor
    public let eps: Float
    public var hooks: [LayerHook] = []

    public init(_ dim: Int, eps: Float) {
        weight = Tensor.ones([dim])
        bias = Tensor.zeros([dim])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        run(x, hooks: hooks) { layerNorm($0, weight: self.weight, bias: self.bias, eps: self.eps) }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// `nn.Conv2d` over NCHW. A PEFT site: see `LayerHook`.
public final class Conv2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public var hooks: [LayerHook] = []
    public let stride: (Int, Int)
    public let padding: Padding
    public let groups: Int

    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: Padding = .none, groups: Int = 1) {
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        run(x, hooks: hooks) { conv2d($0, self.weight, self.bias, stride: self.stride, padding: self.padding, groups: self.groups) }
    }

    public var namedParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}

/// Activation functions by their timm names.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case gelu
    case quickGelu = "quick_gelu"
    case relu
    case relu6
    case silu

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: x.gelu()
        case .quickGelu: x.quickGelu()
        case .relu: x.relu()
        case .relu6: x.relu6()
        case .silu: x.silu()
        }
    }
}
