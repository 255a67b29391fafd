import Foundation
import Models
import PEFT
import Tensor

/// The frozen prefix's output per sample of one deterministic source, computed the first time a
/// sample is seen and reused after (linear probing: the pooled feature; partial-k: the tokens
/// entering the first trained block; side networks: the embeddings and every block's output).
/// Everything after the prefix runs as usual, so results equal the uncached model's up to float
/// rounding (a sample's prefix is computed in another batch). Rows are kept in memory up to
/// `budgetBytes`; with a `store`, every computed row is also written to disk and later runs
/// read it from there. Rows in neither are computed every time.
public final class FrozenPrefixCache {
    public let point: FrozenPrefix
    let model: PEFTModel
    let source: BatchSource
    let budgetBytes: Int
    public let store: FrozenPrefixStore?
    private var rows: [Int: Tensor] = [:]
    /// The shape of one row, known after the first one is computed or read.
    private var rowShape: [Int]?
    public private(set) var storedBytes = 0
    /// Rows read from / written to the store (runs report them).
    public private(set) var rowsRead = 0, rowsWritten = 0

    /// A cache for `model` when it has a frozen prefix and `source` gives the same input every
    /// epoch with sample indices; nil otherwise (or with no memory budget and no store root).
    /// `storeRoot`: where `FrozenPrefixStore` keeps rows (needs the backbone's fingerprint).
    public init?(model: PEFTModel, source: BatchSource, budgetBytes: Int, storeRoot: URL? = nil, backboneFingerprint: String? = nil) {
        // Rows are keyed by sample: a source showing a sample in several views cannot be cached so.
        guard budgetBytes > 0 || storeRoot != nil, source.isDeterministic, source.viewsPerSample == 1, let point = model.frozenPrefix else { return nil }
        (self.model, self.source, self.point, self.budgetBytes) = (model, source, point, budgetBytes)
        store = storeRoot.map {
            FrozenPrefixStore(root: $0, backboneFingerprint: backboneFingerprint ?? Fingerprint.of(model.backbone),
                              precision: BLAS.precision.rawValue, point: point)
        }
    }

    /// The logits of `batch`, reading cached prefix outputs where present; nil when the batch
    /// does not say which samples it holds.
    public func logits(_ batch: Batch, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0)) throws -> Tensor? {
        guard let indices = batch.indices else { return nil }
        let keys = indices.map { index in store == nil ? nil : source.featureCacheKey(sample: index) }
        var prefix: [Tensor?] = indices.map { rows[$0] }
        for (i, key) in keys.enumerated() where prefix[i] == nil {
            if let key, let row = store?.read(key, shape: rowShape) {
                prefix[i] = row
                rowShape = row.shape
                rowsRead += 1
                keep(row, for: indices[i])
            }
        }
        let hidden: Tensor
        if prefix.allSatisfy({ $0 != nil }) {
            hidden = prefix.count == 1 ? prefix[0]! : concat(prefix.map { $0! }, dim: 0)
        } else {
            // Any row missing: the whole batch through the frozen prefix (one batched pass).
            hidden = model.frozenPrefixOutput(batch.images, at: point)
            for (i, index) in indices.enumerated() where prefix[i] == nil {
                let row = hidden.narrowed(0, start: i, length: 1).copy()
                rowShape = row.shape
                keep(row, for: index)
                if let key = keys[i], let store {
                    try store.write(row, for: key)
                    rowsWritten += 1
                }
            }
        }
        return model.forward(frozenPrefixOutput: hidden, at: point, options: options, rng: rng)
    }

    /// Keeps `row` in memory when the budget allows.
    private func keep(_ row: Tensor, for index: Int) {
        guard rows[index] == nil, storedBytes + row.count * 4 <= budgetBytes else { return }
        rows[index] = row
        storedBytes += row.count * 4
    }
}
