import Datasets
import Foundation
import PEFT
import Tensor

/// Frozen-prefix outputs on disk, one safetensors file per sample, so runs that share a
/// backbone, a preprocessing, a prefix point and an arithmetic (another seed, learning rate or
/// side-network width) compute the frozen part once in all. Files live under
/// `<root>/<backbone fingerprint>-<precision>/<point>/<sample key digest>.safetensors`; the key
/// names the sample's file and the preprocessing (`FeatureCacheKey`). A file that cannot be
/// read, or holds another shape than the prefix's, counts as missing and is rewritten: a stale
/// or damaged cache costs time, never a wrong input.
public struct FrozenPrefixStore {
    public let folder: URL

    public init(root: URL, backboneFingerprint: String, precision: String, point: FrozenPrefix) {
        let pointName = switch point {
        case .features: "features"
        case .blockInput(let l): "block-input-\(l)"
        case .blockOutputs: "block-outputs"
        }
        folder = root.appendingPathComponent("\(backboneFingerprint)-\(precision)").appendingPathComponent(pointName)
    }

    private func url(_ key: FeatureCacheKey) -> URL { folder.appendingPathComponent("\(key.digest).safetensors") }

    /// The stored row for `key` when there is a readable one of `shape` (any shape when nil).
    func read(_ key: FeatureCacheKey, shape: [Int]?) -> Tensor? {
        guard FileManager.default.fileExists(atPath: url(key).path),
              let row = try? SafeTensors.read(url(key)).tensors["prefix"], shape == nil || row.shape == shape else { return nil }
        return row
    }

    /// Stores `row` for `key` (written to a temporary name, then moved into place, so a reader
    /// never sees half a file).
    func write(_ row: Tensor, for key: FeatureCacheKey) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(key.digest).\(UUID().uuidString).tmp")
        try SafeTensors.write(["prefix": row], metadata: ["sample": key.sample], to: temporary)
        _ = try? FileManager.default.removeItem(at: url(key))
        try FileManager.default.moveItem(at: temporary, to: url(key))
    }
}
