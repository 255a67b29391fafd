/// Mean and sample standard deviation (n − 1 in the denominator, as over a handful of seeds
/// one wants the estimate of the spread between runs, not of these particular runs).
public struct SeedStatistics: Equatable, Sendable {
    public let mean: Double
    /// nil for a single value (a spread cannot be estimated from one run).
    public let standardDeviation: Double?
    public let count: Int

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        if values.count > 1 {
            let m = mean
            standardDeviation = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        } else {
            standardDeviation = nil
        }
    }

    /// A mean whose spread is unknown (e.g. datasets run with different seeds).
    init(mean: Double, count: Int) {
        self.mean = mean
        standardDeviation = nil
        self.count = count
    }
}
