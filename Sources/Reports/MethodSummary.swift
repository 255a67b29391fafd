/// What the paper's tables say about one method (row of a `ResultGrid`): accuracy per dataset
/// over seeds, group means, the two overall means, parameter count and PPT.
///
/// Means are taken only over complete sets (a row missing a dataset has no mean of N, a group
/// missing one has no group mean): a mean over a different subset would not be comparable to
/// the other rows'. When every dataset of a mean was run with the same seeds, the mean's spread
/// is the sample std of the per-seed means; otherwise only the mean is known.
public struct MethodSummary: Sendable {
    public let row: ResultGrid.Row
    /// By dataset name.
    public let perDataset: [String: SeedStatistics]
    /// By group name, for groups whose datasets are all present.
    public let groupMeans: [String: SeedStatistics]
    /// Mean over all of the grid's datasets ("mean of 19" for full VTAB-1k).
    public let meanOfDatasets: SeedStatistics?
    /// Mean of the group means (what VPT, NOAH and FacT report as "mean").
    public let meanOfGroupMeans: SeedStatistics?
    /// Trainable parameters without the head: mean over datasets (VPT-deep's prompt count,
    /// and so its size, can differ by dataset, as in the paper's 0.56M).
    public let trainableParameters: Int?
    /// From the mean of datasets; nil for full fine-tuning or without a complete mean.
    public let ppt: Double?
    /// Grid datasets this row has no record for.
    public let missingDatasets: [String]

    public static func summaries(of grid: ResultGrid) -> [MethodSummary] {
        grid.rows.map { MethodSummary(grid: grid, row: $0) }
    }

    /// The groups of the grid's datasets, in column order.
    public static func groups(of grid: ResultGrid) -> [String] {
        var seen: [String] = []
        for entry in grid.datasets where !seen.contains(entry.group) { seen.append(entry.group) }
        return seen
    }

    private init(grid: ResultGrid, row: ResultGrid.Row) {
        self.row = row
        var perDataset: [String: SeedStatistics] = [:]
        var perSeed: [String: [Int: Double]] = [:]      // dataset → seed → accuracy (averaged if repeated)
        var parameters: [Double] = []
        for entry in grid.datasets {
            let records = grid.records(row, dataset: entry.name)
            guard let statistics = SeedStatistics(records.map(\.accuracy)) else { continue }
            perDataset[entry.name] = statistics
            perSeed[entry.name] = Dictionary(grouping: records, by: \.seed).mapValues { group in
                group.map(\.accuracy).reduce(0, +) / Double(group.count)
            }
            parameters.append(Double(records.map(\.trainableParameters).reduce(0, +)) / Double(records.count))
        }
        self.perDataset = perDataset
        missingDatasets = grid.datasets.map(\.name).filter { perDataset[$0] == nil }

        /// Statistic of `aggregate` over `datasets`, or nil if one is missing.
        func combined(_ datasets: [String], _ aggregate: ([String: Double]) -> Double) -> SeedStatistics? {
            guard !datasets.isEmpty, datasets.allSatisfy({ perDataset[$0] != nil }) else { return nil }
            let seedSets = datasets.map { Set(perSeed[$0]!.keys) }
            if let seeds = seedSets.first, seeds.count > 1, seedSets.allSatisfy({ $0 == seeds }) {
                let values = seeds.sorted().map { seed in aggregate(Dictionary(uniqueKeysWithValues: datasets.map { ($0, perSeed[$0]![seed]!) })) }
                return SeedStatistics(values)
            }
            let means = Dictionary(uniqueKeysWithValues: datasets.map { ($0, perDataset[$0]!.mean) })
            return SeedStatistics(mean: aggregate(means), count: datasets.map { perDataset[$0]!.count }.min()!)
        }
        func average(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

        let groups = Self.groups(of: grid)
        let datasetsByGroup = Dictionary(grouping: grid.datasets, by: \.group).mapValues { $0.map(\.name) }
        var groupMeans: [String: SeedStatistics] = [:]
        for group in groups {
            let names = datasetsByGroup[group]!
            groupMeans[group] = combined(names) { values in average(names.map { values[$0]! }) }
        }
        self.groupMeans = groupMeans
        let allNames = grid.datasets.map(\.name)
        meanOfDatasets = combined(allNames) { values in average(allNames.map { values[$0]! }) }
        meanOfGroupMeans = combined(allNames) { values in
            average(groups.map { group in average(datasetsByGroup[group]!.map { values[$0]! }) })
        }
        trainableParameters = parameters.isEmpty ? nil : Int((parameters.reduce(0, +) / Double(parameters.count)).rounded())
        if let mean = meanOfDatasets, let trainableParameters {
            ppt = PPT.value(accuracy: mean.mean, trainableParameters: trainableParameters, method: row.method)
        } else {
            ppt = nil
        }
    }
}
