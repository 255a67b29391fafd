import Checkpoints
import Foundation
import NN
import Tensor

/// Where a Swin model comes from, as the CLI's `--model` names it: a timm preset
/// (`swin_base_patch4_window7_224`, tags allowed), a timm hub folder (`config.json` naming a
/// Swin architecture + `model.safetensors`), or such a `config.json`.
public struct SwinSource {
    public var config: SwinTransformerConfig
    /// The weights that come with the source (a hub folder's model.safetensors), if any.
    public var defaultWeights: URL?
    public var architecture: String
    /// The preset's preprocessing, or the hub folder's `pretrained_cfg` over it.
    public var preprocessing: Preprocessing

    /// The source `name` names, or nil when it is not a Swin model (another family's preset, or a
    /// config whose architecture is not `swin_…`), so that the caller can try other families.
    public static func resolve(_ name: String, imgSize: Int? = nil, numClasses: Int? = nil) throws -> SwinSource? {
        var isFolder: ObjCBool = false
        var source: SwinSource
        if FileManager.default.fileExists(atPath: name, isDirectory: &isFolder) {
            let folder = isFolder.boolValue ? URL(fileURLWithPath: name) : URL(fileURLWithPath: name).deletingLastPathComponent()
            let configURL = isFolder.boolValue ? folder.appendingPathComponent("config.json") : URL(fileURLWithPath: name)
            guard let json = Self.json(configURL), let architecture = json["architecture"] as? String, architecture.hasPrefix("swin") else { return nil }
            source = try fromHubConfig(json, architecture: architecture, file: configURL.path)
            let weights = folder.appendingPathComponent("model.safetensors")
            source.defaultWeights = FileManager.default.fileExists(atPath: weights.path) ? weights : nil
        } else {
            guard name.hasPrefix("swin") else { return nil }
            let config = try SwinTransformerConfig.preset(name)
            source = SwinSource(config: config, defaultWeights: nil, architecture: name, preprocessing: config.defaultPreprocessing)
        }
        if let imgSize { source.config.imgSize = imgSize }
        if let numClasses { source.config.numClasses = numClasses }
        try source.config.validate()
        return source
    }

    private static func json(_ url: URL) -> [String: Any]? {
        FileManager.default.contents(atPath: url.path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// The model_args V-PEFT Bench understands for Swin; any other key is an error, never ignored.
    static let knownModelArgs: Set<String> = [
        "img_size", "patch_size", "in_chans", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "qkv_bias",
        "global_pool", "num_classes", "drop_path_rate",
    ]

    /// A timm hub `config.json`: `architecture` picks the preset, `model_args` override it,
    /// `num_classes` and `global_pool` at the top level apply last, and without an `img_size`
    /// argument the image size is `pretrained_cfg.input_size`'s.
    static func fromHubConfig(_ json: [String: Any], architecture: String, file: String) throws -> SwinSource {
        let values = HubConfigValues(file: file)
        var config: SwinTransformerConfig
        do { config = try .preset(architecture) } catch { throw values.error("\(error)") }
        let args = try values.modelArguments(json, supported: knownModelArgs, family: "Swin")
        var windowArgument: Any?
        for (key, value) in args {
            switch key {
            case "img_size": config.imgSize = try values.int(key, value)
            case "patch_size": config.patchSize = try values.int(key, value)
            case "in_chans": config.inChans = try values.int(key, value)
            case "embed_dim": config.embedDim = try values.int(key, value)
            case "depths": config.depths = try values.ints(key, value)
            case "num_heads": config.numHeads = try values.ints(key, value)
            case "window_size": windowArgument = value
            case "mlp_ratio": config.mlpRatio = try values.float(key, value)
            case "qkv_bias": config.qkvBias = try values.bool(key, value)
            case "global_pool": config.globalPool = try values.string(key, value)
            case "num_classes": config.numClasses = try values.int(key, value)
            case "drop_path_rate": config.dropPathRate = try values.float(key, value)
            default: break
            }
        }
        // timm's window_size: one int (or one square (h, w) pair) for every stage, or one per stage.
        if let value = windowArgument {
            if let list = value as? [Any], list.count != 2 || list.contains(where: { $0 is [Any] }) {
                config.windowSize = try values.ints("window_size", list)
            } else {
                config.windowSize = Array(repeating: try values.int("window_size", value), count: config.depths.count)
            }
        } else if config.windowSize.count != config.depths.count {
            config.windowSize = Array(repeating: config.windowSize[0], count: config.depths.count)
        }
        if let n = json["num_classes"] { config.numClasses = try values.int("num_classes", n) }
        if let pool = json["global_pool"] as? String { config.globalPool = pool }
        if args["img_size"] == nil, let size = values.pretrainedInputSize(json) { config.imgSize = size }
        return SwinSource(config: config, defaultWeights: nil, architecture: architecture,
                          preprocessing: try config.defaultPreprocessing.overridden(byPretrainedConfig: json, values))
    }
}

extension SwinTransformer {
    /// A model as the CLI's `--model`/`--weights` name it (see `SwinSource`); `weights` (any
    /// supported format, timm or Microsoft layout) overrides the folder's model.safetensors.
    /// Without weights the model keeps its random init. With `numClasses` given and different
    /// from the checkpoint's head, the head is re-initialised; otherwise loading is strict.
    /// `windowing: .dense` builds it for dense prediction (any input size, HF's window layout).
    public static func load(model: String, weights: URL? = nil, imgSize: Int? = nil, numClasses: Int? = nil,
                            seed: UInt64 = 0, windowing: SwinWindowing? = nil) throws -> SwinTransformer {
        guard var source = try SwinSource.resolve(model, imgSize: imgSize, numClasses: numClasses) else {
            throw ModelConfigError("'\(model)' is not a Swin model (known presets: \(SwinTransformerConfig.presetNames.joined(separator: ", ")))")
        }
        if let windowing { source.config.windowing = windowing }
        let swin = try SwinTransformer(source.config, seed: seed)
        swin.preprocessing = source.preprocessing
        if let url = weights ?? source.defaultWeights {
            try swin.loadCheckpoint(url, newHead: numClasses != nil)
        }
        return swin
    }

    /// Loads a checkpoint file (safetensors or PyTorch pth, timm or Microsoft layout).
    /// `newHead`: a head in the checkpoint that does not fit is left out (the model's own head
    /// stays) instead of being an error.
    public func loadCheckpoint(_ url: URL, newHead: Bool = false) throws {
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var state = try Self.timmTensors(from: checkpoint.tensors, file: url.path)
        do {
            try loadPretrained(&state, newHead: newHead)
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("\(url.path): \(mismatch)")
        }
    }

    /// Loads timm-named tensors. A relative position bias table made for another window size is
    /// resized to this model's (timm's `checkpoint_filter_fn`); everything else must match.
    public func loadPretrained(_ state: inout [String: Tensor], newHead: Bool = false) throws {
        for (i, stage) in layers.enumerated() {
            for (j, block) in stage.blocks.enumerated() {
                let key = "layers.\(i).blocks.\(j).attn.relative_position_bias_table"
                let own = block.attn.relativePositionBiasTable
                if let table = state[key], table.shape != own.shape, table.rank == 2, table.shape[1] == own.shape[1],
                   let resized = Self.resizedBiasTable(table, window: block.window) {
                    state[key] = resized
                }
            }
        }
        let keepHead = newHead && droppingMismatchedHead(&state, head: head, prefix: "head.fc")
        try load(state, strict: true, keepOwn: { keepHead && $0.hasPrefix("head.") })
    }
}

extension SwinTransformer {
    /// A checkpoint's tensors in timm's current layout, as timm's `checkpoint_filter_fn` makes
    /// them. The original Microsoft checkpoints (recognised, as timm does, by a
    /// `layers.0.downsample`) put PatchMerging at the END of a stage and name the classifier
    /// `head`: `layers.i.downsample.*` becomes `layers.{i+1}.downsample.*` and `head.*`
    /// `head.fc.*`. Their buffers — `relative_position_index` [N, N] and, on shifted blocks,
    /// `attn_mask` [nW, N, N] — are recomputed by the model, so they are checked (the index
    /// against Swin's formula for its window and the table beside it; the mask for its shape and
    /// its values 0 / −100) and dropped, never loaded.
    public static func timmTensors(from tensors: [String: Tensor], file: String) throws -> [String: Tensor] {
        func fail(_ key: String, _ reason: String) -> ModelConfigError { ModelConfigError("\(file): '\(key)': \(reason)") }
        let microsoftLayout = tensors["layers.0.downsample.reduction.weight"] != nil
        var indexSides: [String: Int] = [:]
        for (key, index) in tensors where key.hasSuffix(".relative_position_index") {
            let n = index.rank == 2 ? index.shape[0] : 0
            let w = Int(Double(n).squareRoot().rounded())
            guard n > 0, index.shape == [n, n], w * w == n else { throw fail(key, "shape \(index.shape) is not [w², w²] for a w×w window") }
            let expected = WindowAttention.relativePositionIndex(window: w)
            if let at = (0..<index.count).first(where: { Float(expected[$0]) != index.data[$0] }) {
                throw fail(key, "entry \(at) is \(index.data[at]), Swin's relative position index for a \(w)×\(w) window has \(expected[at])")
            }
            let tableKey = String(key.dropLast("relative_position_index".count)) + "relative_position_bias_table"
            if let table = tensors[tableKey], table.rank != 2 || table.shape[0] != (2 * w - 1) * (2 * w - 1) {
                throw fail(key, "indexes a \(w)×\(w) window, whose bias table has \((2 * w - 1) * (2 * w - 1)) rows, but '\(tableKey)' is \(table.shape)")
            }
            indexSides[String(key.dropLast(".attn.relative_position_index".count))] = w
        }
        for (key, mask) in tensors where key.hasSuffix(".attn_mask") {
            let block = String(key.dropLast(".attn_mask".count))
            guard mask.rank == 3, mask.shape[0] > 0, mask.shape[1] == mask.shape[2] else { throw fail(key, "shape \(mask.shape) is not [nW, N, N]") }
            if let w = indexSides[block], mask.shape[1] != w * w {
                throw fail(key, "shape \(mask.shape) does not fit the block's \(w)×\(w) window ([nW, \(w * w), \(w * w)])")
            }
            if let at = (0..<mask.count).first(where: { mask.data[$0] != 0 && mask.data[$0] != -100 }) {
                throw fail(key, "entry \(at) is \(mask.data[at]); a shifted-window mask holds only 0 and -100")
            }
        }
        var result: [String: Tensor] = [:]
        for (key, value) in tensors where !key.hasSuffix(".relative_position_index") && !key.hasSuffix(".attn_mask") {
            let name = microsoftLayout ? timmName(ofMicrosoft: key) : key
            guard result[name] == nil else { throw fail(key, "maps to '\(name)', which the checkpoint already holds") }
            result[name] = value
        }
        return result
    }

    /// `layers.i.downsample.*` → `layers.{i+1}.downsample.*`, `head.*` → `head.fc.*`.
    static func timmName(ofMicrosoft key: String) -> String {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 2, parts[0] == "layers", parts[2] == "downsample", let stage = Int(parts[1]) {
            parts[1] = String(stage + 1)
        } else if parts.first == "head", parts.count > 1, parts[1] != "fc" {
            parts.insert("fc", at: 1)
        }
        return parts.joined(separator: ".")
    }

    /// A relative position bias table [(2s−1)², heads] resized for a w×w window as timm's
    /// `resize_rel_pos_bias_table` does without SciPy (its default): the source entries sit at
    /// offsets spaced by a geometric progression (BEiT's scheme: dense near zero, reaching the
    /// new table's edge) and each head is interpolated bilinearly at the integer offsets
    /// −(w−1) … w−1, in Float as timm computes it. nil when the table's rows are not a square.
    public static func resizedBiasTable(_ table: Tensor, window w: Int) -> Tensor? {
        let (rows, heads) = (table.shape[0], table.shape[1])
        let src = Int(Double(rows).squareRoot().rounded()), dst = 2 * w - 1
        guard src * src == rows else { return nil }
        if src == dst { return table }
        let points = geometricOffsets(source: src, destination: dst)
        let half = Float(dst / 2)
        let targets = (0..<dst).map { -half + Float($0) }
        let weights = targets.map { linearWeights(at: $0, points: points) }
        let out = Tensor(uninitializedShape: [dst * dst, heads])
        for h in 0..<heads {
            func z(_ row: Int, _ column: Int) -> Float { table.data[(row * src + column) * heads + h] }
            for (yi, y) in weights.enumerated() {
                for (xi, x) in weights.enumerated() {
                    // timm's RegularGridInterpolator: corners (left/right × left/right), each
                    // weighted by the opposite distances, summed in this order, then normalised.
                    var numerator: Float = 0
                    numerator += z(y.left, x.left) * (y.toRight * x.toRight)
                    numerator += z(y.left, x.right) * (y.toRight * x.toLeft)
                    numerator += z(y.right, x.left) * (y.toLeft * x.toRight)
                    numerator += z(y.right, x.right) * (y.toLeft * x.toLeft)
                    out.data[(yi * dst + xi) * heads + h] = numerator / (y.span * x.span)
                }
            }
        }
        return out
    }

    /// BEiT's source offsets: ±(1, 1 + q, 1 + q + q², …) around 0 with the ratio q (found by
    /// bisection in [1.01, 1.5]) for which the src/2 steps reach dst/2; in Double, then Float.
    private static func geometricOffsets(source src: Int, destination dst: Int) -> [Float] {
        var (left, right) = (1.01, 1.5), q = 0.0
        while right - left > 1e-6 {
            q = (left + right) / 2
            let reach = (1 - pow(q, Double(src / 2))) / (1 - q)
            if reach > Double(dst / 2) { right = q } else { left = q }
        }
        var steps: [Double] = [], current = 1.0
        for i in 0..<(src / 2) {
            steps.append(current)
            current += pow(q, Double(i + 1))
        }
        return (steps.reversed().map { -$0 } + [0] + steps).map { Float($0) }
    }

    /// The two neighbours of `x` among increasing `points` and the distances to them, as timm's
    /// interpolator takes them (`torch.bucketize`, clamped at both ends; a zero-width span
    /// counts as 1 + 1).
    private static func linearWeights(at x: Float, points: [Float]) -> (left: Int, right: Int, toLeft: Float, toRight: Float, span: Float) {
        let right = min(points.firstIndex { $0 >= x } ?? points.count, points.count - 1)
        let left = min(max(right - 1, 0), points.count - 1)
        var toLeft = max(x - points[left], 0), toRight = max(points[right] - x, 0)
        if toLeft == 0 && toRight == 0 { (toLeft, toRight) = (1, 1) }
        return (left, right, toLeft, toRight, toLeft + toRight)
    }
}
