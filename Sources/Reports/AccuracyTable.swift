import Foundation

/// The paper's Table IV from run records: one row per method configuration; per-dataset
/// accuracy in the paper's column order; group means; both overall means (mean of the N
/// datasets and mean of the group means, labelled, since papers differ in which they print);
/// trainable parameters without the head (in M with two decimals, and exact); PPT; best and
/// second best of every accuracy and PPT column marked.
public enum AccuracyTable {
    public struct Options: Sendable {
        public var datasetDecimals: Int
        public var meanDecimals: Int
        /// Method ids to list first, in this order (default: the paper's order).
        public var methodOrder: [String]

        public init(datasetDecimals: Int = 1, meanDecimals: Int = 2, methodOrder: [String] = []) {
            self.datasetDecimals = datasetDecimals
            self.meanDecimals = meanDecimals
            self.methodOrder = methodOrder
        }
    }

    /// Reads every record under `directory` and builds the table.
    public static func make(fromRecordsIn directory: URL, options: Options = Options()) throws -> ReportTable {
        make(records: try RunRecordLoader.load(from: directory), options: options)
    }

    public static func make(records: [RunRecord], options: Options = Options()) -> ReportTable {
        let grid = ResultGrid(records: records, methodOrder: options.methodOrder)
        let summaries = MethodSummary.summaries(of: grid)
        let groups = MethodSummary.groups(of: grid)
        let showGroups = groups.count > 1
        let showMean = grid.datasets.count > 1

        var columns = [ReportTable.Column("Method", alignment: .left)]
        columns += grid.datasets.map { ReportTable.Column($0.shortName) }
        if showGroups { columns += groups.map { ReportTable.Column(DatasetCatalog.groupTitle($0)) } }
        if showMean { columns.append(ReportTable.Column("Mean of \(grid.datasets.count)")) }
        if showGroups { columns.append(ReportTable.Column("Mean of \(groups.count) group means")) }
        columns += [ReportTable.Column("# Params (M)"), ReportTable.Column("# Params"), ReportTable.Column("PPT")]

        // Built column by column so each ranked column is marked as a whole.
        var table: [[ReportTable.Cell]] = [summaries.map { ReportTable.Cell(text: $0.row.label) }]
        func addRanked(_ statistics: [SeedStatistics?], decimals: Int) {
            var cells = statistics.map { $0.map { seedCell($0, decimals: decimals) } ?? .missing }
            ColumnRanking.mark(&cells, displayed: statistics.map { $0.map { rounded($0.mean, decimals) } })
            table.append(cells)
        }
        for entry in grid.datasets { addRanked(summaries.map { $0.perDataset[entry.name] }, decimals: options.datasetDecimals) }
        if showGroups { for group in groups { addRanked(summaries.map { $0.groupMeans[group] }, decimals: options.meanDecimals) } }
        if showMean { addRanked(summaries.map(\.meanOfDatasets), decimals: options.meanDecimals) }
        if showGroups { addRanked(summaries.map(\.meanOfGroupMeans), decimals: options.meanDecimals) }
        table.append(summaries.map { s in
            s.trainableParameters.map { ReportTable.Cell(text: format(Double($0) / 1e6, 2), value: Double($0) / 1e6) } ?? .missing
        })
        table.append(summaries.map { s in
            s.trainableParameters.map { ReportTable.Cell(text: String($0), value: Double($0)) } ?? .missing
        })
        var pptCells = summaries.map { s in s.ppt.map { ReportTable.Cell(text: format($0, 2), value: $0) } ?? .missing }
        ColumnRanking.mark(&pptCells, displayed: summaries.map { $0.ppt.map { rounded($0, 2) } })
        table.append(pptCells)

        var warnings = grid.warnings
        for s in summaries where !s.missingDatasets.isEmpty && s.missingDatasets.count < grid.datasets.count {
            warnings.append("\(s.row.label) has no result on \(s.missingDatasets.joined(separator: ", ")); its overall means and PPT are left empty")
        }
        let rows = summaries.indices.map { r in table.map { $0[r] } }
        return ReportTable(caption: caption(records: records, grid: grid, showGroups: showGroups), warnings: warnings,
                           columns: columns, rows: rows)
    }

    private static func caption(records: [RunRecord], grid: ResultGrid, showGroups: Bool) -> String {
        func list(_ values: [String?]) -> String {
            let distinct = Set(values.compactMap { $0 }).sorted()
            return distinct.isEmpty ? "unknown" : distinct.joined(separator: " + ")
        }
        let suites = list(records.map { $0.datasetSuite.map(DatasetCatalog.suiteTitle) })
        let protocols = Dictionary(grouping: records, by: \.evaluationProtocol).keys.sorted().map { name -> String in
            let kinds = list(records.filter { $0.evaluationProtocol == name }.map(\.reportedKind))
            return "\(name) (reported: \(kinds))"
        }
        let seedCounts = grid.rows.flatMap { row in grid.datasets.map { grid.records(row, dataset: $0.name).count } }.filter { $0 > 0 }
        let seeds = seedCounts.min() == seedCounts.max() ? "\(seedCounts.min() ?? 0)" : "\(seedCounts.min()!)–\(seedCounts.max()!)"
        var text = "Top-1 accuracy (%) on \(suites), backbone \(list(records.map(\.backbone))), protocol \(protocols.joined(separator: " + ")), "
        text += "training recipe \(recipes(records)). "
        text += "Cells: mean ± sample std over seeds (\(seeds) per cell). Best in bold, second best underlined. "
        text += "Mean of \(grid.datasets.count): average over the datasets"
        if showGroups { text += "; mean of group means: average of the group averages" }
        text += ". # Params: trainable parameters without the head. PPT = (M/100)·exp(−log10(P/10^7 + 1)) with M the mean of \(grid.datasets.count); – for full fine-tuning."
        return text
    }

    /// "vpetl", or "vpetl (official: gps, ssf)" when some methods used another recipe; records
    /// from before recipes existed count as "unrecorded".
    static func recipes(_ records: [RunRecord]) -> String {
        let byRecipe = Dictionary(grouping: records) { $0.recipe ?? "unrecorded" }.mapValues { Set($0.map(\.method)).sorted() }
        guard let main = byRecipe.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) })?.key else { return "unrecorded" }
        let others = byRecipe.keys.filter { $0 != main }.sorted().map { "\($0): \(byRecipe[$0]!.joined(separator: ", "))" }
        return others.isEmpty ? main : "\(main) (\(others.joined(separator: "; ")))"
    }

}

/// Fixed decimals, as tables print numbers ("%.2f"; never "-0.00").
func format(_ value: Double, _ decimals: Int) -> String {
    let text = String(format: "%.\(decimals)f", value)
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
}

/// The value a cell shows, as a number: what ranking compares, so ties are ties as printed.
func rounded(_ value: Double, _ decimals: Int) -> Double {
    Double(format(value, decimals))!
}

/// "mean ± std" over seeds (the std only when there are several).
func seedCell(_ statistics: SeedStatistics, decimals: Int) -> ReportTable.Cell {
    var text = format(statistics.mean, decimals)
    if let std = statistics.standardDeviation { text += " ± " + format(std, decimals) }
    return ReportTable.Cell(text: text, value: statistics.mean, standardDeviation: statistics.standardDeviation)
}

/// The mean of the values present; nil when none is.
func meanOfPresent(_ values: [Double?]) -> Double? {
    let present = values.compactMap { $0 }
    return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
}
