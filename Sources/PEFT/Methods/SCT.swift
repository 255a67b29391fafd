import Models
import NN
import Tensor

/// SCT — Zhao et al., IJCV 2024 (Salient Channel Tuning). Before training, a calibration pass
/// over the training images (frozen backbone, evaluation mode, no augmentation) records each
/// block's residual stream after the attention add (norm2's input), class token(s) dropped; per
/// class c, the L2 norm of each channel over that class's samples and tokens; the scores are
/// averaged over the classes present and the top K channels kept, in ascending order. Each
/// block then gains, after its attention residual,
///     x[…, idx] ← x[…, idx] + W x[…, idx] + b,   W ∈ R^{K×K}, b ∈ R^K
/// on every token. Init (`weight_init`): "zero" (the default: W and b zero, so the model starts
/// as the backbone) or "trunc_normal" (W ~ trunc-normal(0.02), b zero: what SCT's released
/// model does; docs/methods.md, "SCT").
/// The channels are the method's calibrated state (`blocks.{l}.sct.channels`, saved in adapter
/// files and checkpoints, not trained); before calibration they are 0..<K.
/// Not mergeable: the module maps the residual stream itself between the two residual adds,
/// where a plain ViT has no weight to fold it into.
/// Sites: branch(l, attn) after the residual. Backbones: transformer blocks (ViT, Swin: K of each
/// block's own channels; K must not exceed the narrowest block). Params: L·(K² + K); ViT-B/16,
/// K 96: 111,744.
public struct SCT: PEFTMethod {
    public static let name = "sct"
    public static let summary = "SCT (Zhao et al. 2024): K×K linear on the top-K salient channels after attention"
    public static let sites = "branch(l, attn) after the residual"
    public static let mergeable = false
    public static let calibrates = true
    public var channels = 96
    public var weightInit = "zero"
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(["zero", "trunc_normal"].contains(weightInit), Self.name, "weight_init", weightInit, "must be zero or trunc_normal")
        guard let d = backbone.transformerBlocks.map(\.width).min() else { return }
        try MethodOptionError.require((1...d).contains(channels), Self.name, "channels", channels, "must be in 1...\(d) (the embedding dimension)")
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        for block in try model.blockSites(for: Self.name) {
            block.hooks.attnBranch.append(SalientChannelHook(
                channels: model.registerState(block.name("sct.channels"), Tensor.arange(channels)),
                weight: model.register(block.name("sct.weight"), weightInit == "zero" ? Tensor.zeros([channels, channels])
                                           : Tensor.truncatedNormal([channels, channels], std: 0.02, a: -2, b: 2, using: &rng), role: .linearWeight),
                bias: model.register(block.name("sct.bias"), Tensor.zeros([channels]), role: .linearBias)))
        }
    }

    public func validateState(of model: PEFTModel) throws {
        for block in try model.blockSites(for: Self.name) {
            try model.requireAscendingIndices(block.name("sct.channels"), below: block.width, rowLength: channels)
        }
    }

    public func calibrate(_ model: PEFTModel, on data: any CalibrationData) throws {
        let blocks = try model.blockSites(for: Self.name)
        let hooks = blocks.map { $0.hooks.attnBranch.compactMap { $0 as? SalientChannelHook }.first! }
        let recorders = blocks.map { ChannelEnergy(classes: model.classes, channels: $0.width, prefixTokens: $0.tokenGrid.prefixTokens) }
        for (hook, recorder) in zip(hooks, recorders) { hook.recorder = recorder }
        defer { for hook in hooks { hook.recorder = nil } }
        try data.forEachBatch { images, labels in
            for recorder in recorders { recorder.labels = labels }
            _ = withoutGradients { model.forward(images) }
        }
        for (hook, recorder) in zip(hooks, recorders) {
            let selected = try recorder.topChannels(channels)
            hook.channels.data.update(from: selected.map(Float.init), count: channels)
        }
    }
}

/// Σ x² per class and channel over samples and non-prefix tokens.
final class ChannelEnergy {
    let classes: Int, channels: Int, prefixTokens: Int
    var labels: [Int] = []
    private var sums: [Double]
    private var seen: [Bool]

    init(classes: Int, channels: Int, prefixTokens: Int) {
        (self.classes, self.channels, self.prefixTokens) = (classes, channels, prefixTokens)
        sums = Array(repeating: 0, count: classes * channels)
        seen = Array(repeating: false, count: classes)
    }

    func record(_ x: Tensor) {
        let (b, n, d) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(labels.count == b && d == channels, "SCT calibration: \(labels.count) labels for \(b) samples")
        let values = x.scalars
        for sample in 0..<b {
            let c = labels[sample]
            seen[c] = true
            for t in prefixTokens..<n {
                let row = (sample * n + t) * d
                for ch in 0..<d { sums[c * d + ch] += Double(values[row + ch]) * Double(values[row + ch]) }
            }
        }
    }

    /// The k channels of highest class-averaged L2 norm, ascending.
    func topChannels(_ k: Int) throws -> [Int] {
        let present = (0..<classes).filter { seen[$0] }
        guard !present.isEmpty else { throw MethodOptionError("sct: calibration saw no training images") }
        let score = (0..<channels).map { ch in present.reduce(0.0) { $0 + sums[$1 * channels + ch].squareRoot() } / Double(present.count) }
        return Array((0..<channels).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }.prefix(k)).sorted()
    }
}

/// After the attention residual: x[…, idx] += W x[…, idx] + b (while calibrating: records x
/// and leaves it unchanged).
final class SalientChannelHook: BranchHook {
    let channels: Tensor, weight: Tensor, bias: Tensor
    var recorder: ChannelEnergy?
    init(channels: Tensor, weight: Tensor, bias: Tensor) { (self.channels, self.weight, self.bias) = (channels, weight, bias) }

    func afterResidual(_ stream: Tensor, context: inout ForwardContext) -> Tensor {
        // Calibrating: record, and stay out of the way (channels are chosen on the backbone alone).
        if let recorder {
            recorder.record(stream)
            return stream
        }
        let idx = channels.scalars.map { Int($0) }, d = stream.shape[2]
        // Scatter back through a one-hot [K, d] matrix: K·d per token, a small share of the block.
        let scatter = Tensor.zeros([idx.count, d])
        for (k, ch) in idx.enumerated() { scatter.data[k * d + ch] = 1 }
        return stream + matmul(linear(stream.indexSelect(idx, dim: -1), weight, bias), scatter)
    }
}
