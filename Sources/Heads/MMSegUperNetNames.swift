import Tensor

/// How mmsegmentation names the tensors of its UPerNet + Swin models (`upernet_swin_*`) and
/// which of ours each is. mmseg's Swin (`mmseg/models/backbones/swin.py`) differs from ours
/// (timm's names, HF's stage norms) in four ways:
///
/// - renamed modules: `patch_embed.projection` (ours `proj`), `attn.w_msa.*` (ours `attn.*`),
///   the FFN's `ffn.layers.0.0` / `ffn.layers.1` (ours `mlp.fc1` / `mlp.fc2`), the output norms
///   `norm{i}` (ours `hidden_states_norms.stage{i+1}`);
/// - PatchMerging sits at the END of stage i (`stages.i.downsample`), ours at the start of
///   stage i + 1 (`layers.{i+1}.downsample`, timm ≥ 0.9);
/// - PatchMerging gathers each 2×2 neighbourhood with `nn.Unfold`, so its 4C inputs are ordered
///   channel-major (channel c, offset k = kh·2 + kw at c·4 + k) where ours concatenates the four
///   offsets (0,0), (1,0), (0,1), (1,1) whole (g·C + c): the norm and reduction weights are
///   permuted on load (`unfoldOrder`);
/// - `relative_position_index` is stored (a buffer ours rebuilds from the window size).
///
/// The heads (`uper_head.py`, `fcn_head.py`) have HF's module names except mmcv's `ConvModule`
/// calling its BatchNorm `bn` (ours `batch_norm`) and the classifier `conv_seg` (ours `classifier`).
public enum MMSegUperNetNames {
    public enum Mapping: Equatable, Sendable {
        /// Our tensor; `unfoldOrder`: stored in nn.Unfold's channel order.
        case tensor(String, unfoldOrder: Bool)
        /// A value the model derives itself (`relative_position_index`, BatchNorm's batch counter).
        case derived
    }

    /// Our name for an mmseg tensor name; nil when it is not one of an mmseg UPerNet + Swin.
    public static func ours(_ key: String) -> Mapping? {
        if key.hasSuffix(".num_batches_tracked") || key.hasSuffix(".attn.w_msa.relative_position_index") { return .derived }
        var parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return nil }
        func tensor(_ names: [String], unfoldOrder: Bool = false) -> Mapping { .tensor(names.joined(separator: "."), unfoldOrder: unfoldOrder) }
        switch parts[0] {
        case "decode_head", "auxiliary_head":
            if parts[1] == "conv_seg" { parts[1] = "classifier" }
            if parts[parts.count - 2] == "bn" { parts[parts.count - 2] = "batch_norm" }
            return tensor(parts)
        case "backbone":
            if parts[1] == "patch_embed" {
                if parts[2] == "projection" { parts[2] = "proj" }
                return tensor(parts)
            }
            if parts[1].hasPrefix("norm"), let i = Int(parts[1].dropFirst("norm".count)), parts.count == 3 {
                return tensor(["backbone", "hidden_states_norms", "stage\(i + 1)", parts[2]])
            }
            guard parts[1] == "stages", parts.count >= 5, let stage = Int(parts[2]) else { return nil }
            if parts[3] == "downsample" { return tensor(["backbone", "layers", "\(stage + 1)"] + parts[3...], unfoldOrder: true) }
            guard parts[3] == "blocks", parts.count >= 7 else { return nil }
            let block = Array(parts[..<5]).replacingStages()
            let rest = Array(parts[5...])
            switch (rest[0], rest.count) {
            case ("attn", 3...4) where rest[1] == "w_msa": return tensor(block + ["attn"] + rest[2...])
            case ("norm1", 2), ("norm2", 2): return tensor(block + rest)
            case ("ffn", 5) where rest[1...3] == ["layers", "0", "0"]: return tensor(block + ["mlp", "fc1", rest[4]])
            case ("ffn", 4) where rest[1...2] == ["layers", "1"]: return tensor(block + ["mlp", "fc2", rest[3]])
            default: return nil
            }
        default:
            return nil
        }
    }

    /// mmseg's name for one of ours (the inverse of `ours`); nil for ours it has no counterpart
    /// of (the Swin's final `backbone.norm`, which no stage output passes through).
    public static func mmseg(_ name: String) -> String? {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3 else { return nil }
        switch parts[0] {
        case "decode_head", "auxiliary_head":
            if parts[1] == "classifier" { parts[1] = "conv_seg" }
            if parts[parts.count - 2] == "batch_norm" { parts[parts.count - 2] = "bn" }
            return parts.joined(separator: ".")
        case "backbone":
            switch parts[1] {
            case "patch_embed":
                if parts[2] == "proj" { parts[2] = "projection" }
                return parts.joined(separator: ".")
            case "hidden_states_norms":
                guard let stage = Int(parts[2].dropFirst("stage".count)) else { return nil }
                return "backbone.norm\(stage - 1).\(parts[3])"
            case "layers":
                guard let stage = Int(parts[2]) else { return nil }
                if parts[3] == "downsample" { return (["backbone", "stages", "\(stage - 1)"] + parts[3...]).joined(separator: ".") }
                parts[1] = "stages"
                let block = parts[..<5], rest = Array(parts[5...])
                switch rest[0] {
                case "attn": return (block + ["attn", "w_msa"] + rest[1...]).joined(separator: ".")
                case "mlp": return (block + ["ffn", "layers"] + (rest[1] == "fc1" ? ["0", "0"] : ["1"]) + rest[2...]).joined(separator: ".")
                default: return (block + rest).joined(separator: ".")
                }
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// PatchMerging's 4C axis (the last) from nn.Unfold's order (c·4 + k) to ours (g·C + c),
    /// offset group g = (0,0), (1,0), (0,1), (1,1) at unfold index k = 0, 2, 1, 3.
    public static func fromUnfoldOrder(_ t: Tensor) -> Tensor { permuteMergedAxis(t, toUnfold: false) }

    /// The inverse of `fromUnfoldOrder` (ours → mmseg's).
    public static func toUnfoldOrder(_ t: Tensor) -> Tensor { permuteMergedAxis(t, toUnfold: true) }

    static let unfoldIndexOfGroup = [0, 2, 1, 3]

    private static func permuteMergedAxis(_ t: Tensor, toUnfold: Bool) -> Tensor {
        let width = t.shape.last ?? 0, channels = width / 4
        let source = t.scalars
        var out = source
        for row in stride(from: 0, to: source.count, by: max(width, 1)) {
            for g in 0..<4 {
                for c in 0..<channels {
                    let ours = row + g * channels + c, unfold = row + c * 4 + unfoldIndexOfGroup[g]
                    if toUnfold { out[unfold] = source[ours] } else { out[ours] = source[unfold] }
                }
            }
        }
        return Tensor(shape: t.shape, out)
    }
}

private extension Array where Element == String {
    /// `backbone.stages.i.blocks.j` → `backbone.layers.i.blocks.j`.
    func replacingStages() -> [String] { enumerated().map { $0.offset == 1 ? "layers" : $0.element } }
}
