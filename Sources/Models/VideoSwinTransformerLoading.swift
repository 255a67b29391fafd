import Checkpoints
import Foundation
import NN
import Tensor

extension VideoSwinTransformer {
    /// The `--model` names that are Video Swin: its presets (`swin3d_base_patch244_window877`,
    /// dataset tags allowed). Nil for any other model.
    public static func config(forModel model: String, imgSize: Int? = nil, numClasses: Int? = nil) throws -> VideoSwinTransformerConfig? {
        guard model.hasPrefix("swin3d_") else { return nil }
        var config = try VideoSwinTransformerConfig.preset(model)
        if let imgSize { config.imgSize = imgSize }
        if let numClasses { config.numClasses = numClasses }
        try config.validate()
        return config
    }

    /// A model as the CLI names it, with the weights of `weights` (a released `.pth`: mmaction's
    /// `{"state_dict": {"backbone.…", "cls_head.fc_cls.…"}}`, or the same names in safetensors).
    /// With `numClasses` different from the checkpoint's head, the head is new (fine-tuning).
    public static func load(model: String, weights: URL? = nil, imgSize: Int? = nil, numClasses: Int? = nil, seed: UInt64 = 0) throws -> VideoSwinTransformer {
        guard let config = try config(forModel: model, imgSize: imgSize, numClasses: numClasses) else {
            throw ModelConfigError("'\(model)' is not a Video Swin model (known presets: \(VideoSwinTransformerConfig.presetNames.joined(separator: ", ")))")
        }
        let swin = try VideoSwinTransformer(config, seed: seed)
        if let weights { try swin.loadCheckpoint(weights, newHead: numClasses != nil) }
        return swin
    }

    /// Loads a checkpoint file; errors name the file and the missing, unexpected or mis-shaped
    /// keys. `newHead`: a head in the checkpoint that does not fit is left out (the model's own
    /// head stays) instead of being an error; a checkpoint without a head (a backbone only)
    /// keeps the model's own head then too.
    public func loadCheckpoint(_ url: URL, newHead: Bool = false) throws {
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var state = try Self.ownNames(checkpoint.tensors, file: url.path)
        let keepHead = newHead && droppingMismatchedHead(&state, head: head, prefix: "head")
        do {
            try load(state, strict: true, keepOwn: { keepHead && $0.hasPrefix("head.") })
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("\(url.path): \(mismatch)")
        }
    }

    /// The released names → this model's: `backbone.` dropped, `cls_head.fc_cls.` → `head.`, the
    /// Conv3d patch weight [D, C, t, p, p] flattened to the linear map's [D, C·t·p·p]. The
    /// `relative_position_index` buffers are recomputed by the model, so each is checked against
    /// the index of the window its table implies, then dropped.
    static func ownNames(_ tensors: [String: Tensor], file: String) throws -> [String: Tensor] {
        func fail(_ key: String, _ reason: String) -> ModelConfigError { ModelConfigError("\(file): '\(key)': \(reason)") }
        var state: [String: Tensor] = [:]
        var indexes: [(key: String, name: String, index: Tensor)] = []
        for (key, tensor) in tensors {
            var name = key
            if name.hasPrefix("backbone.") { name.removeFirst("backbone.".count) }
            if name.hasPrefix("cls_head.fc_cls.") { name = "head." + name.dropFirst("cls_head.fc_cls.".count) }
            if name.hasSuffix(".relative_position_index") { indexes.append((key, name, tensor)); continue }
            if name == "patch_embed.proj.weight" && tensor.rank == 5 { state[name] = tensor.reshaped([tensor.shape[0], tensor.count / tensor.shape[0]]); continue }
            guard state[name] == nil else { throw fail(key, "maps to '\(name)', which the checkpoint already holds") }
            state[name] = tensor
        }
        for (key, name, index) in indexes {
            let tableName = String(name.dropLast("relative_position_index".count)) + "relative_position_bias_table"
            guard let table = state[tableName], table.rank == 2 else { throw fail(key, "has no relative_position_bias_table beside it") }
            guard let window = Self.window(forTableRows: table.shape[0], tokens: index.shape.first ?? 0) else {
                throw fail(key, "shape \(index.shape) fits no 3-D window with a \(table.shape[0])-row bias table")
            }
            let expected = WindowAttention3D.relativePositionIndex(window: window)
            guard index.shape == [expected.count.squareRootInt, expected.count.squareRootInt] else { throw fail(key, "shape \(index.shape) is not [N, N]") }
            if let at = (0..<index.count).first(where: { Float(expected[$0]) != index.data[$0] }) {
                throw fail(key, "entry \(at) is \(index.data[at]); Video Swin's relative position index for a \(window) window has \(expected[at])")
            }
        }
        return state
    }

    /// The window (wd, wh, ww), wh = ww, with N = wd·wh² tokens and a (2wd−1)(2wh−1)² table.
    private static func window(forTableRows rows: Int, tokens n: Int) -> [Int]? {
        guard n > 0 else { return nil }
        for side in 1...max(1, Int(Double(n).squareRoot())) where n % (side * side) == 0 {
            let depth = n / (side * side)
            if (2 * depth - 1) * (2 * side - 1) * (2 * side - 1) == rows { return [depth, side, side] }
        }
        return nil
    }
}

private extension Int {
    var squareRootInt: Int { Int(Double(self).squareRoot().rounded()) }
}
