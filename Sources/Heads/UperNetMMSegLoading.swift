import Checkpoints
import Foundation
import Models
import NN
import Tensor

/// Reads mmsegmentation checkpoints of UPerNet + Swin (`upernet_swin_*`: a `.pth` holding
/// `{"meta": …, "state_dict": …}`) into a segmenter of the same architecture, names mapped by
/// `MMSegUperNetNames`. A `.pth` carries no architecture, so the segmenter comes from the caller
/// (`loadMMSeg`: a Swin preset or folder; the head's sizes from the tensors); every mismatch is an error naming mmseg's key.
extension UperNetSegmenter {
    /// The model tensors of an mmseg checkpoint (`state_dict`, the runner's `meta` dropped) when
    /// it holds a UPerNet decode head (`decode_head.conv_seg`), else nil.
    public static func readMMSegCheckpoint(_ path: String) throws -> [String: Tensor]? {
        let tensors = try Checkpoint.read(URL(fileURLWithPath: path)).unwrapped().tensors
        return tensors["decode_head.conv_seg.weight"] != nil ? tensors : nil
    }

    /// The segmenter of an mmseg checkpoint on the Swin `swin` names (a preset or timm hub
    /// folder: mmseg stores no architecture), built for inputs of side `imgSize` with dense
    /// windowing (mmseg's Swin pads every map to whole windows, as HF's does); nil when `path`
    /// is not an mmseg UPerNet. The head's sizes are read off the tensors: classes and channels
    /// from `conv_seg`, the auxiliary head's convolutions counted (none: no auxiliary head);
    /// pool scales are mmseg's (1, 2, 3, 6).
    public static func loadMMSeg(_ path: String, swin model: String, imgSize: Int, seed: UInt64 = 0) throws -> UperNetSegmenter? {
        guard let state = try readMMSegCheckpoint(path) else { return nil }
        guard var source = try SwinSource.resolve(model, imgSize: imgSize, numClasses: 0) else {
            throw ModelConfigError("\(path) is an mmseg UPerNet + Swin checkpoint; model = \(model) is not a Swin (presets: \(SwinTransformerConfig.presetNames.joined(separator: ", ")))")
        }
        source.config.windowing = .dense
        let swin = try SwinTransformer(source.config, seed: seed)
        swin.preprocessing = source.preprocessing
        var head = UperNetConfig()
        let classifier = state["decode_head.conv_seg.weight"]!
        (head.numLabels, head.hiddenSize) = (classifier.shape[0], classifier.shape[1])
        if let auxiliary = state["auxiliary_head.conv_seg.weight"] {
            head.auxiliaryChannels = auxiliary.shape[1]
            head.auxiliaryNumConvs = state.keys.filter { $0.hasPrefix("auxiliary_head.convs.") && $0.hasSuffix(".conv.weight") }.count
            head.auxiliaryConcatInput = state["auxiliary_head.conv_cat.conv.weight"] != nil
        } else {
            head.useAuxiliaryHead = false
        }
        let segmenter = try UperNetSegmenter(backbone: swin, config: head, seed: seed)
        try segmenter.loadMMSegState(state, file: path)
        return segmenter
    }

    /// Copies mmseg-named tensors into the model. Strict: every tensor of the model must be in
    /// the file (the Swin's final `backbone.norm`, which mmseg's backbone lacks and no stage
    /// output passes through, excepted) and every tensor in the file must be used (mmseg's
    /// `relative_position_index` and BatchNorm's `num_batches_tracked` are derived, so skipped).
    public func loadMMSegState(_ tensors: [String: Tensor], file: String) throws {
        var report = StateDictMismatch()
        var own: [String: (mmseg: String, tensor: Tensor)] = [:]
        for (key, tensor) in tensors {
            switch MMSegUperNetNames.ours(key) {
            case .derived: continue
            case .tensor(let name, let unfoldOrder):
                own[name] = (key, unfoldOrder ? MMSegUperNetNames.fromUnfoldOrder(tensor) : tensor)
            case nil: report.unexpected.append(key)
            }
        }
        let targets = namedParameters + namedBuffers
        let known = Set(targets.map(\.name))
        for (name, target) in targets {
            guard let (key, value) = own[name] else {
                if let key = MMSegUperNetNames.mmseg(name) { report.missing.append(key) }
                continue
            }
            guard value.shape == target.shape else { report.wrongShape.append((key, target.shape, value.shape)); continue }
            target.data.update(from: value.data, count: target.count)
        }
        report.unexpected += own.filter { !known.contains($0.key) }.map(\.value.mmseg)
        report.missing.sort()
        report.unexpected.sort()
        if !report.isEmpty { throw ModelConfigError("\(file): \(report) (mmseg's UPerNet + Swin names)") }
    }
}
