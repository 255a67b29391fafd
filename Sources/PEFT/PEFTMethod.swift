import Models
import NN
import Tensor

/// A parameter-efficient fine-tuning method: its hyper-parameters (decoded from options), and
/// how it attaches to a backbone at named sites. One type per method, one file per type
/// (Sources/PEFT/Methods), each opening with its definition and parameter formula.
public protocol PEFTMethod: Codable, Sendable {
    /// The registry name (`--method lora`).
    static var name: String { get }
    /// One line: paper and idea.
    static var summary: String { get }
    /// Where it acts, for `vpeft methods`.
    static var sites: String { get }
    /// Whether `merge` can fold it into the backbone (inference then costs the base model).
    static var mergeable: Bool { get }
    /// Whether the frozen part's activations are independent of the trainable part, so they can
    /// be computed once per un-augmented image.
    static var cacheable: Bool { get }

    /// Whether frozen backbone blocks run in evaluation mode while training (no drop-path), as
    /// VPT runs its frozen encoder for partial fine-tuning.
    static var frozenBlocksInEvalMode: Bool { get }

    /// Whether the method is a side network whose token and block-output hooks only read the
    /// frozen backbone's embeddings and block outputs (the last block's output hook may change
    /// it): the blocks then run once per un-augmented image (`FrozenPrefix.blockOutputs`).
    static var readsFrozenBlockOutputs: Bool { get }

    /// Whether the method sets data-dependent state from the training data before training
    /// (`calibrate`; SCT's salient channels).
    static var calibrates: Bool { get }

    /// The method with its default options.
    init()

    /// Checks option values, throwing a `MethodOptionError` that names the option.
    func validate(for backbone: any Backbone) throws
    /// Installs the method's modules at `model.backbone`'s sites and marks what trains.
    func attach(to model: PEFTModel, using rng: inout SeededRandom) throws
    /// Folds the trained method into the backbone's weights (mergeable methods only); the
    /// caller removes the hooks afterwards.
    func merge(into model: PEFTModel) throws
    /// Sets the method's state tensors from the training data (methods that `calibrate`), once,
    /// before the first epoch; the state is then saved with the adapter.
    func calibrate(_ model: PEFTModel, on data: any CalibrationData) throws
    /// Checks the method's state tensors after they were read from a file (indices in range,
    /// statistics finite), throwing a `MethodOptionError` that names the tensor.
    func validateState(of model: PEFTModel) throws
}

/// The labelled training images a calibrating method reads once before training.
public protocol CalibrationData {
    /// Every training image with the evaluation preprocessing (no augmentation).
    func forEachBatch(_ body: (_ images: Tensor, _ labels: [Int]) throws -> Void) throws
    /// Every training image as two independently augmented views (GPS's contrastive pre-pass:
    /// random-resized crop, flip, colour jitter, grey-scale).
    func forEachViewPair(_ body: (_ first: Tensor, _ second: Tensor, _ labels: [Int]) throws -> Void) throws
}

extension PEFTMethod {
    public static var cacheable: Bool { false }
    public static var frozenBlocksInEvalMode: Bool { false }
    public static var readsFrozenBlockOutputs: Bool { false }
    public static var calibrates: Bool { false }
    public func calibrate(_ model: PEFTModel, on data: any CalibrationData) throws {}
    public func validateState(of model: PEFTModel) throws {}
    public func validate(for backbone: any Backbone) throws {}
    public func merge(into model: PEFTModel) throws {
        throw MethodOptionError("\(Self.name) cannot be merged into the backbone")
    }
}

/// A wrong method name or option value; the message names it and what is allowed.
public struct MethodOptionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func require(_ condition: Bool, _ method: String, _ option: String, _ value: Any, _ expectation: String) throws {
        if !condition { throw MethodOptionError("\(method): option '\(option)' = \(value): \(expectation)") }
    }
}

/// How new layers start: each method's own init, or the V-PETL benchmark code's
/// re-initialisation of every new linear weight to trunc-normal(0.02) with zero biases
/// (so adapters and LoRA do not start as the identity).
public enum InitStyle: String, Codable, Sendable, CaseIterable {
    case intended
    case vpetl
}

/// What a tensor registered by a method is, for `InitStyle.vpetl`.
public enum TensorRole: Sendable {
    case linearWeight
    case linearBias
    case other
}

extension PEFTModel {
    /// Checks that every value of the state tensor `name` is an index in `0..<bound`, strictly
    /// increasing along each row of `rowLength` values (the selections SCT and GPS save).
    func requireAscendingIndices(_ name: String, below bound: Int, rowLength: Int) throws {
        guard let tensor = stateTensors.first(where: { $0.name == name })?.tensor else { return }
        let values = tensor.scalars
        for (i, v) in values.enumerated() {
            guard v == v.rounded(), v >= 0, v < Float(bound) else {
                throw MethodOptionError("state tensor '\(name)': entry \(i) = \(v) is not an index in 0..<\(bound)")
            }
            if i % rowLength > 0, v <= values[i - 1] {
                throw MethodOptionError("state tensor '\(name)': entries \(i - 1) and \(i) (\(values[i - 1]), \(v)) are not strictly increasing")
            }
        }
    }
}

