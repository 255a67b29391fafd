import Models
import NN
import Tensor

/// GPS — Zhang et al., CVPR 2024 (Gradient-based Parameter Selection). No new modules: a
/// pre-pass over the training set (two augmented views per image; `CalibrationData.
/// forEachViewPair`) accumulates the gradient of a supervised contrastive loss (temperature
/// 0.07, positives = same label) on the L2-normalised pooled features (final-LN class token);
/// for every weight matrix — qkv, proj, fc1, fc2 of every block and the patch embedding as an
/// [out, in·p·p] matrix — each output row keeps the k input connections of largest |gradient|.
/// Those entries and every non-LayerNorm bias train; LayerNorms, position embedding and class
/// token stay frozen. The selected entries are a sparse update δ beside the frozen weight,
///     y_o = (W x)_o + b_o + Σ_j δ_{o,j} x_{c(o,j)},
/// so the trainable tensors (and AdamW's state) hold k values per row, never a full-size
/// matrix. Init: δ zero. The chosen columns are the method's calibrated state
/// (`<layer>.gps_columns` [out, k], saved in adapter files; before calibration 0..<k).
/// The pre-pass runs the model in evaluation mode (no drop-path), once, before training.
/// Sites: linear(l, qkv/proj/fc1/fc2), patch_embed. Backbones: transformer blocks (ViT, Swin: each
/// block's linears at its width, the patch conv; the pooled features are the backbone's).
/// Mergeable: W[o, c(o, j)] += δ_{o,j}.
/// Params: (k + 1)·(rows) = 83,712·(1 + k) on ViT-B/16; k 1: 167,424 (patch_camelyon uses 2).
public struct GPS: PEFTMethod {
    public static let name = "gps"
    public static let summary = "GPS (Zhang et al. 2024): top-k gradient-selected weight entries per row, plus biases"
    public static let sites = "linear(l, qkv/proj/fc1/fc2), patch_embed (sparse entries)"
    public static let mergeable = true
    public static let calibrates = true
    public var k = 1
    public var temperature: Float = 0.07
    public init() {}

    public func validate(for backbone: any Backbone) throws {
        try MethodOptionError.require(temperature > 0, Self.name, "temperature", temperature, "must be positive")
        let rows = Self.targets(backbone).map { $0.weight.count / $0.weight.shape[0] }
        guard let narrowest = rows.min() else { return }
        try MethodOptionError.require((1...narrowest).contains(k), Self.name, "k", k, "must be in 1...\(narrowest) (the narrowest row)")
    }

    /// The weight matrices GPS selects in, with their timm names.
    static func targets(_ backbone: any Backbone) -> [(name: String, weight: Tensor, attach: (LayerHook) -> Void)] {
        var list: [(name: String, weight: Tensor, attach: (LayerHook) -> Void)] = []
        if let (name, patch) = backbone.patchEmbedding { list.append((name, patch.weight, { patch.hooks.append($0) })) }
        for block in backbone.transformerBlocks {
            for (name, layer) in block.linears {
                list.append((block.name(name), layer.weight, { layer.hooks.append($0) }))
            }
        }
        return list
    }

    public func attach(to model: PEFTModel, using rng: inout SeededRandom) throws {
        let blocks = try model.blockSites(for: Self.name)
        let patch = model.backbone.patchEmbedding
        for (name, weight, attach) in Self.targets(model.backbone) {
            let rows = weight.shape[0]
            let columns = model.registerState("\(name).gps_columns", Tensor(shape: [rows, k], (0..<rows).flatMap { _ in (0..<k).map(Float.init) }))
            let delta = model.register("\(name).gps_delta", Tensor.zeros([rows, k]))
            let update = SparseUpdate(columns: columns, delta: delta)
            attach(weight.rank == 4 ? SparsePatchEmbedDelta(update, patchSize: weight.shape[2]) : SparseLinearDelta(update))
        }
        patch?.conv.bias?.requiresGrad = true
        for block in blocks { for (_, layer) in block.linears { layer.bias?.requiresGrad = true } }
    }

    public func validateState(of model: PEFTModel) throws {
        for (name, weight, _) in Self.targets(model.backbone) {
            try model.requireAscendingIndices("\(name).gps_columns", below: weight.count / weight.shape[0], rowLength: k)
        }
    }

    public func calibrate(_ model: PEFTModel, on data: any CalibrationData) throws {
        let targets = Self.targets(model.backbone)
        let trainable = model.trainableTensors.map(\.tensor)   // before the weights join them
        for (_, weight, _) in targets { (weight.requiresGrad, weight.grad) = (true, nil) }
        defer { for (_, weight, _) in targets { (weight.requiresGrad, weight.grad) = (false, nil) } }
        // The selection is made on the backbone alone: the sparse updates sit out the pre-pass.
        let updates = SparseUpdate.all(in: model.backbone)
        for update in updates { update.active = false }
        defer { for update in updates { update.active = true } }
        var pairs = 0
        try data.forEachViewPair { first, second, labels in
            let features = concat([model.forward(first).features, model.forward(second).features], dim: 0)
            supervisedContrastiveLoss(features, labels: labels + labels, temperature: temperature).backward()
            pairs += 1
        }
        guard pairs > 0 else { throw MethodOptionError("gps: the gradient pre-pass saw no training images") }
        for t in trainable { t.grad = nil }   // the pre-pass trains nothing
        for (name, weight, _) in targets {
            guard let grad = weight.grad else { throw MethodOptionError("gps: no gradient reached \(name).weight in the pre-pass") }
            let rows = weight.shape[0], width = weight.count / rows
            let g = grad.scalars
            var chosen: [Float] = []
            chosen.reserveCapacity(rows * k)
            for o in 0..<rows {
                let row = g[(o * width)..<((o + 1) * width)]
                let top = row.indices.sorted { Swift.abs(row[$0]) > Swift.abs(row[$1]) || (Swift.abs(row[$0]) == Swift.abs(row[$1]) && $0 < $1) }.prefix(k)
                chosen += top.map { Float($0 - o * width) }.sorted()
            }
            let columns = model.stateTensors.first { $0.name == "\(name).gps_columns" }!.tensor
            columns.data.update(from: chosen, count: chosen.count)
        }
    }

    public func merge(into model: PEFTModel) throws {
        let state = Dictionary(uniqueKeysWithValues: model.stateTensors.map { ($0.name, $0.tensor) })
        let deltas = Dictionary(uniqueKeysWithValues: model.methodTensors.map { ($0.name, $0.tensor) })
        for (name, weight, _) in Self.targets(model.backbone) {
            let columns = state["\(name).gps_columns"]!.scalars, delta = deltas["\(name).gps_delta"]!.scalars
            let width = weight.count / weight.shape[0]
            for (i, c) in columns.enumerated() { weight.data[(i / k) * width + Int(c)] += delta[i] }
        }
    }
}

/// One matrix's sparse update: δ [rows, k] at the columns c [rows, k].
final class SparseUpdate {
    let columns: Tensor, delta: Tensor
    /// Off during GPS's pre-pass.
    var active = true
    init(columns: Tensor, delta: Tensor) { (self.columns, self.delta) = (columns, delta) }

    /// Σ_j δ_{o,j} x_{c(o,j)} for inputs x [..., in]: [..., rows].
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (rows, k) = (delta.shape[0], delta.shape[1])
        let picked = x.indexSelect(columns.scalars.map { Int($0) }, dim: -1)          // [..., rows·k]
        if k == 1 { return picked * delta.reshaped([rows]) }
        return (picked.reshaped(Array(x.shape.dropLast()) + [rows, k]) * delta).sum(dims: [-1])
    }

    static func all(in backbone: any Backbone) -> [SparseUpdate] {
        let patch = backbone.patchEmbedding.map { [$0.conv.hooks] } ?? []
        let layers: [[LayerHook]] = patch + backbone.transformerBlocks.flatMap { $0.linears.map(\.layer.hooks) }
        return layers.flatMap { $0 }.compactMap { ($0 as? SparseLinearDelta)?.update ?? ($0 as? SparsePatchEmbedDelta)?.update }
    }
}

/// A linear layer's output plus its sparse update.
final class SparseLinearDelta: LayerHook {
    let update: SparseUpdate
    init(_ update: SparseUpdate) { self.update = update }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor { update.active ? next(x) + update(x) : next(x) }
}

/// The patch embedding's output plus its sparse update, on the image cut into patches whose
/// flattened (channel, row, column) order is the conv weight's.
final class SparsePatchEmbedDelta: LayerHook {
    let update: SparseUpdate, patchSize: Int
    init(_ update: SparseUpdate, patchSize: Int) { (self.update, self.patchSize) = (update, patchSize) }

    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor {
        guard update.active else { return next(x) }
        let (b, c, h, w, p) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], patchSize)
        let (gh, gw) = (h / p, w / p)
        let patches = x.reshaped([b, c, gh, p, gw, p]).permuted([0, 2, 4, 1, 3, 5]).reshaped([b, gh * gw, c * p * p])
        return next(x) + update(patches).transposed(1, 2).reshaped([b, update.delta.shape[0], gh, gw])
    }
}
