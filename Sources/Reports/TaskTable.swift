import Foundation

/// The paper's Tables V (video) and VI (dense prediction) from run records: one row per
/// backbone and method configuration, then trainable parameters without the head, peak training
/// memory, and for every dataset its score (top-1 or mIoU, mean ± std over seeds) beside its own
/// PPT, as those tables print them. Best and second best of every score and PPT column marked.
public enum TaskTable {
    public static func make(fromRecordsIn directory: URL, methodOrder: [String] = []) throws -> ReportTable {
        make(records: try RunRecordLoader.load(from: directory), methodOrder: methodOrder)
    }

    public static func make(records: [RunRecord], methodOrder: [String] = []) -> ReportTable {
        // One grid per backbone, so rows of different backbones are not averaged together.
        let backbones = Dictionary(grouping: records) { $0.backbone ?? "unknown" }
        let grids = backbones.keys.sorted().map { ($0, ResultGrid(records: backbones[$0]!, methodOrder: methodOrder)) }
        let datasets = ResultGrid(records: records).datasets
        let metric = metricTitle(records)

        var columns = ["Method", "Backbone", "# Params (M)", "Peak memory (MB)"].enumerated().map {
            ReportTable.Column($0.element, alignment: $0.offset < 2 ? .left : .right)
        }
        for entry in datasets { columns += [ReportTable.Column("\(entry.shortName) \(metric)"), ReportTable.Column("\(entry.shortName) PPT")] }

        var rows: [[ReportTable.Cell]] = []
        var scores: [[SeedStatistics?]] = []   // per row, per dataset
        var ppts: [[Double?]] = []
        for (backbone, grid) in grids {
            for row in grid.rows {
                let all = grid.records(row)
                let parameters = meanOfPresent(all.map { Double($0.trainableParameters) })?.rounded()
                let perDataset = datasets.map { SeedStatistics(grid.records(row, dataset: $0.name).map(\.accuracy)) }
                scores.append(perDataset)
                ppts.append(perDataset.map { statistics in
                    statistics.flatMap { s in parameters.flatMap { PPT.value(accuracy: s.mean, trainableParameters: Int($0), method: row.method) } }
                })
                rows.append([
                    ReportTable.Cell(text: row.label), ReportTable.Cell(text: backbone),
                    parameters.map { ReportTable.Cell(text: format($0 / 1e6, 2), value: $0 / 1e6) } ?? .missing,
                    meanOfPresent(all.map(\.cost.peakMemoryMB)).map { ReportTable.Cell(text: format($0, 0), value: $0) } ?? .missing,
                ])
            }
        }
        for d in datasets.indices {
            var scoreCells = scores.map { $0[d].map { seedCell($0, decimals: 2) } ?? .missing }
            ColumnRanking.mark(&scoreCells, displayed: scores.map { $0[d].map { rounded($0.mean, 2) } })
            var pptCells = ppts.map { $0[d].map { ReportTable.Cell(text: format($0, 2), value: $0) } ?? .missing }
            ColumnRanking.mark(&pptCells, displayed: ppts.map { $0[d].map { rounded($0, 2) } })
            for r in rows.indices { rows[r] += [scoreCells[r], pptCells[r]] }
        }

        var warnings = grids.flatMap { $0.1.warnings }   // one backbone per grid: none says they mix
        let machines = Set(records.map { $0.cpu ?? "unknown CPU" })
        if machines.count > 1 { warnings.append("peak memory was measured on different machines: \(machines.sorted().joined(separator: "; "))") }
        let suites = Set(records.compactMap { $0.datasetSuite.map(DatasetCatalog.suiteTitle) }).sorted().joined(separator: " + ")
        let caption = "\(metric) (%) on \(suites.isEmpty ? "unknown" : suites): mean ± sample std over seeds, best in bold, second best underlined. "
            + "# Params: trainable parameters without the task head (classifier, decode head), as the paper counts. "
            + "Peak memory: the largest tensor memory while training, mean over the row's runs. "
            + "PPT = (M/100)·exp(−log10(P/10^7 + 1)) per dataset; – for full fine-tuning."
        return ReportTable(caption: caption, warnings: warnings, columns: columns, rows: rows)
    }

    /// The scores table for `records`: Table V/VI's layout for video and segmentation runs, Table IV's otherwise.
    public static func scoreTable(records: [RunRecord]) -> ReportTable {
        applies(to: records) ? make(records: records) : AccuracyTable.make(records: records)
    }

    /// Whether `records` belong in this table rather than Table IV's: video or dense-prediction runs.
    public static func applies(to records: [RunRecord]) -> Bool {
        !records.isEmpty && records.allSatisfy { $0.metric != "top1" || DatasetCatalog.entry(for: $0.dataset, recordedGroup: $0.datasetGroup).group == "video" }
    }

    /// "mIoU", "Top-1", or both joined when the records mix tasks.
    static func metricTitle(_ records: [RunRecord]) -> String {
        let titles = Set(records.map { $0.metric == "miou" ? "mIoU" : "Top-1" }).sorted()
        return titles.isEmpty ? "Top-1" : titles.joined(separator: " / ")
    }

}
