import Checkpoints
import Foundation
import Models
import NN
import Tensor

/// Reads mmsegmentation checkpoints of UPerNet + Swin (`upernet_swin_*`: a `.pth` holding
/// `{"meta": …, "state_dict": …}`) into a segmenter of the same architecture, names mapped by
/// `MMSegUperNetNames`. A `.pth` carries no architecture, so the segmenter comes from the caller
/// (a Swin preset and the head settings); every mismatch is an error naming mmseg's key.
extension UperNetSegmenter {
    /// The model tensors of an mmseg checkpoint (`state_dict`, the runner's `meta` dropped) when
    /// it holds a UPerNet decode head (`decode_head.conv_seg`), else nil.
    public static func readMMSegCheckpoint(_ path: String) throws -> [String: Tensor]? {
        let tensors = try Checkpoint.read(URL(fileURLWithPath: path)).unwrapped().tensors
        return tensors["decode_head.conv_seg.weight"] != nil ? tensors : nil
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
