import Foundation

/// Names what a frozen backbone saw for one sample: the sample's file (or IDX entry) and the
/// canonical description of the deterministic preprocessing. Two runs that agree on both may
/// share a cached frozen-prefix feature; anything else (another resize, another normalisation)
/// changes the key. Only deterministic pipelines have keys — augmented inputs differ per epoch.
public struct FeatureCacheKey: Hashable, Codable, Sendable {
    public let sample: String
    public let preprocessing: String

    public init(sample: String, preprocessing: String) {
        (self.sample, self.preprocessing) = (sample, preprocessing)
    }

    /// Hex SHA-256 of the two parts: a fixed-length name for cache files.
    public var digest: String {
        var hasher = SHA256()
        hasher.update(Data("\(sample)\n\(preprocessing)".utf8))
        return SHA256.hex(hasher.finalize())
    }
}
