import Models
import PEFT
import Tensor

/// The frozen prefix's output per sample of one deterministic source, computed the first time a
/// sample is seen and reused after (linear probing: the pooled feature; partial-k: the tokens
/// entering the first trained block). Everything after the prefix runs as usual, so results
/// equal the uncached model's up to float rounding (a sample's prefix is computed in another
/// batch). Samples beyond `budgetBytes` are computed every time instead of stored.
public final class FrozenPrefixCache {
    public let point: FrozenPrefix
    let model: PEFTModel
    let budgetBytes: Int
    private var rows: [Int: Tensor] = [:]
    public private(set) var storedBytes = 0

    /// A cache for `model` when it has a frozen prefix and `source` gives the same input every
    /// epoch with sample indices; nil otherwise (or with a zero budget).
    public init?(model: PEFTModel, source: BatchSource, budgetBytes: Int) {
        guard budgetBytes > 0, source.isDeterministic, let point = model.frozenPrefix else { return nil }
        (self.model, self.point, self.budgetBytes) = (model, point, budgetBytes)
    }

    /// The logits of `batch`, reading cached prefix outputs where present; nil when the batch
    /// does not say which samples it holds.
    public func logits(_ batch: Batch, options: ForwardOptions = ForwardOptions(), rng: SeededRandom = SeededRandom(seed: 0)) -> Tensor? {
        guard let indices = batch.indices else { return nil }
        var prefix: [Tensor]
        if indices.allSatisfy({ rows[$0] != nil }) {
            prefix = indices.map { rows[$0]! }
        } else {
            let computed = model.frozenPrefixOutput(batch.images, at: point)
            let perSample = computed.count / indices.count
            prefix = indices.indices.map { computed.narrowed(0, start: $0, length: 1) }
            for (index, row) in zip(indices, prefix) where rows[index] == nil && storedBytes + perSample * 4 <= budgetBytes {
                rows[index] = row
                storedBytes += perSample * 4
            }
        }
        let hidden = prefix.count == 1 ? prefix[0] : concat(prefix, dim: 0)
        return model.forward(frozenPrefixOutput: hidden, at: point, options: options, rng: rng)
    }
}
