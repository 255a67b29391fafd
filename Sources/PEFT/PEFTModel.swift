import Models
import NN
import Tensor

/// A backbone with a PEFT method attached: the frozen backbone, the method's new tensors, the
/// backbone tensors it unfroze, and a fresh head — the backbone's own classifier, or a task head
/// (a dense-prediction decoder) that reads the backbone, which then keeps no classifier.
public final class PEFTModel {
    public let backbone: any Backbone
    public let method: any PEFTMethod
    public let initStyle: InitStyle
    public let seed: UInt64
    public let classes: Int
    /// The head that replaces the classifier for other tasks (nil: classification). Its tensors
    /// always train and are left out of `trainableParameterCount()`, like the classifier's.
    public let taskHead: (any TaskHead)?
    /// Dropout inside method modules follows this (set by `forward` / `beginPass`).
    public let dropout = DropoutSource()
    /// The method's own tensors, by name (docs/PEFT_TENSORS.md).
    public private(set) var methodTensors: [(name: String, tensor: Tensor)] = []
    /// The method's frozen tensors (VeRA's shared random projections): drawn from the seed, so an
    /// adapter file need not store them.
    public private(set) var frozenMethodTensors: [(name: String, tensor: Tensor)] = []
    /// The method's data-dependent state (SCT's salient channels): set by `calibrate`, not
    /// trained, saved with the trainable tensors in adapter files and checkpoints.
    public private(set) var stateTensors: [(name: String, tensor: Tensor)] = []
    private var roles: [String: TensorRole] = [:]

    /// Freezes `backbone`, replaces its head with a new one for `classes` (PyTorch default
    /// init) and attaches `method`. Everything random is drawn from `seed`.
    public init(backbone: any Backbone, method: any PEFTMethod, classes: Int, initStyle: InitStyle = .intended, seed: UInt64 = 0) throws {
        guard classes > 0 else { throw MethodOptionError("classes = \(classes): need at least one class") }
        try method.validate(for: backbone)
        (self.backbone, self.method, self.initStyle, self.seed, self.classes, taskHead) = (backbone, method, initStyle, seed, classes, nil)
        var headRandom = SeededRandom(seed: seed).derived("head")
        backbone.setTrainable(false)
        backbone.resetHead(classes: classes, using: &headRandom)
        backbone.head!.setTrainable(true)
        try attachMethod()
    }

    /// Freezes `backbone` (which must have no classifier), makes every tensor of `head` trainable
    /// and attaches `method` to the backbone exactly as for classification: the same sites.
    /// The head comes initialised (its own seed); the method draws from `seed`.
    public init(backbone: any Backbone, method: any PEFTMethod, head: any TaskHead, initStyle: InitStyle = .intended, seed: UInt64 = 0) throws {
        guard backbone.head == nil else { throw MethodOptionError("a task head replaces the classifier: the backbone must have none (\(backbone.architecture) has one)") }
        guard head.featureBackbone === backbone else { throw MethodOptionError("the task head reads another backbone than the one given") }
        guard head.classes > 0 else { throw MethodOptionError("classes = \(head.classes): need at least one class") }
        try method.validate(for: backbone)
        (self.backbone, self.method, self.initStyle, self.seed, classes, taskHead) = (backbone, method, initStyle, seed, head.classes, head)
        backbone.setTrainable(false)
        for (_, tensor) in head.headParameters { tensor.requiresGrad = true }
        try attachMethod()
    }

    private func attachMethod() throws {
        let root = SeededRandom(seed: seed)
        var methodRandom = root.derived("method:\(type(of: method).name)")
        try method.attach(to: self, using: &methodRandom)
        if initStyle == .vpetl {
            var vpetlRandom = root.derived("vpetl-init")
            for (name, tensor) in methodTensors {
                switch roles[name] {
                case .linearWeight:
                    let fresh = Tensor.truncatedNormal(tensor.shape, std: 0.02, a: -2, b: 2, using: &vpetlRandom)
                    tensor.data.update(from: fresh.data, count: tensor.count)
                case .linearBias:
                    tensor.data.initialize(repeating: 0, count: tensor.count)
                default: break
                }
            }
        }
    }

    /// Adds a trainable method tensor under `name` and returns it.
    @discardableResult
    public func register(_ name: String, _ tensor: Tensor, role: TensorRole = .other) -> Tensor {
        precondition(!methodTensors.contains { $0.name == name }, "PEFT: tensor name \(name) registered twice")
        tensor.requiresGrad = true
        tensor.name = name
        methodTensors.append((name, tensor))
        roles[name] = role
        return tensor
    }

    /// A new LayerNorm (weight 1, bias 0) whose tensors train as `<prefix>.weight`, `<prefix>.bias`.
    public func registerLayerNorm(_ prefix: String, _ dim: Int, eps: Float) -> LayerNorm {
        let norm = LayerNorm(dim, eps: eps)
        register("\(prefix).weight", norm.weight)
        register("\(prefix).bias", norm.bias)
        return norm
    }

    /// A new Linear from initialised tensors that train as `<prefix>.weight`, `<prefix>.bias`.
    public func registerLinear(_ prefix: String, weight: Tensor, bias: Tensor) -> Linear {
        Linear(weight: register("\(prefix).weight", weight, role: .linearWeight), bias: register("\(prefix).bias", bias, role: .linearBias))
    }

    /// Adds a frozen method tensor under `name` and returns it.
    @discardableResult
    public func registerFrozen(_ name: String, _ tensor: Tensor) -> Tensor {
        tensor.requiresGrad = false
        tensor.name = name
        frozenMethodTensors.append((name, tensor))
        return tensor
    }

    /// Adds a method state tensor under `name` (frozen, saved) and returns it.
    @discardableResult
    public func registerState(_ name: String, _ tensor: Tensor) -> Tensor {
        precondition(!stateTensors.contains { $0.name == name }, "PEFT: state name \(name) registered twice")
        tensor.requiresGrad = false
        tensor.name = name
        stateTensors.append((name, tensor))
        return tensor
    }

    /// Makes backbone tensors trainable by timm name.
    public func unfreeze(where include: (String) -> Bool) {
        for (name, tensor) in backbone.namedParameters where include(name) { tensor.requiresGrad = true }
    }

    /// Every trainable tensor with its name: unfrozen backbone tensors (timm names, classifier
    /// included), the task head's, then the method's own.
    public var trainableTensors: [(name: String, tensor: Tensor)] {
        backbone.namedParameters.filter { $0.tensor.requiresGrad } + (taskHead?.headParameters ?? []) + methodTensors
    }

    /// What an adapter file or checkpoint stores: the trainable tensors, the method's state and
    /// the task head's buffers (BatchNorm running statistics).
    public var savedTensors: [(name: String, tensor: Tensor)] { trainableTensors + stateTensors + (taskHead?.headBuffers ?? []) }

    /// Trainable parameters, without or with the head (the paper counts without). The head is
    /// the task head, or the backbone's classifier whatever its name (`head.*` in a ViT, `_fc.*`
    /// in EfficientNet).
    public func trainableParameterCount(includingHead: Bool = false) -> Int {
        let head = includingHead ? [] : headTensors(of: backbone).union((taskHead?.headParameters ?? []).map { ObjectIdentifier($0.tensor) })
        return trainableTensors.filter { !head.contains(ObjectIdentifier($0.tensor)) }.reduce(0) { $0 + $1.tensor.count }
    }

    /// Readies the method modules for one pass (dropout on or off, its random stream): `forward`
    /// does it; a task head's forward, which calls the backbone itself, needs it first.
    public func beginPass(options: ForwardOptions, rng: SeededRandom) {
        dropout.training = options.training
        dropout.rng = rng.derived("peft-dropout")
    }

    public func forward(_ images: Tensor, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0)) -> BackboneOutput {
        beginPass(options: options, rng: rng)
        return backbone.forward(images, options: options, rng: rng)
    }

    public func callAsFunction(_ images: Tensor) -> Tensor { forward(images).logits! }

    /// The backbone as a ViT, for methods whose definition needs a ViT's one global token
    /// sequence (prompt tokens, side networks of one width); `reason` says why, for the error.
    public func vit(for method: String, because reason: String = "its definition needs a ViT's single token sequence") throws -> VisionTransformer {
        guard let vit = backbone as? VisionTransformer else {
            throw MethodOptionError("\(method) is defined for ViT backbones (\(reason)); this backbone is \(backbone.architecture)")
        }
        return vit
    }

    /// Folds the method into the backbone (mergeable methods) and removes every hook: the
    /// backbone is then a plain ViT with the same outputs.
    public func merge() throws {
        dropout.training = false
        try withoutGradients { try method.merge(into: self) }
        backbone.removeAllHooks()
        methodTensors = []
        frozenMethodTensors = []
        stateTensors = []
    }
}

extension PEFTModel {
    /// Sets stochastic depth for training: timm's linspace up to `rate`, except in frozen
    /// transformer blocks (ViT, Swin) when the method runs them in evaluation mode.
    public func setDropPathRate(_ rate: Float) {
        backbone.setDropPathRate(rate)
        guard type(of: method).frozenBlocksInEvalMode else { return }
        for block in backbone.transformerBlocks where !block.parameters.contains(where: \.requiresGrad) { block.dropPath = 0 }
    }

    /// Folds the hooks of every block's linear layers into their weights (`Linear.foldHooks`).
    func foldLinearHooks() throws {
        for block in try blockSites(for: type(of: method).name) {
            for (_, layer) in block.linears { try layer.foldHooks() }
        }
    }
}

/// Dropout for method modules, switched by the model's forward (training or not).
public final class DropoutSource {
    public var training = false
    public var rng = SeededRandom(seed: 0)

    public func callAsFunction(_ x: Tensor, _ p: Float) -> Tensor {
        x.dropout(p, training: training, using: &rng)
    }
}
