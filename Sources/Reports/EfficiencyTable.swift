import Foundation

/// What each method costs, from the same records: trainable parameters, adapter file size,
/// peak memory while training, and training / inference / merged-inference throughput. Each
/// number is the mean over the method's records (datasets × seeds) that report it.
public enum EfficiencyTable {
    public static func make(fromRecordsIn directory: URL, methodOrder: [String] = []) throws -> ReportTable {
        make(records: try RunRecordLoader.load(from: directory), methodOrder: methodOrder)
    }

    public static func make(records: [RunRecord], methodOrder: [String] = []) -> ReportTable {
        let grid = ResultGrid(records: records, methodOrder: methodOrder)
        let columns = ["Method", "# Params (M)", "# Params", "Adapter (KB)", "Peak memory (MB)", "Train img/s",
                       "Inference img/s", "Merged inference img/s"].enumerated().map {
            ReportTable.Column($0.element, alignment: $0.offset == 0 ? .left : .right)
        }
        let rows = grid.rows.map { row -> [ReportTable.Cell] in
            let records = grid.records(row)
            func cell(_ value: Double?, _ decimals: Int, scale: Double = 1) -> ReportTable.Cell {
                value.map { ReportTable.Cell(text: format($0 / scale, decimals), value: $0 / scale) } ?? .missing
            }
            let parameters = meanOfPresent(records.map { Double($0.trainableParameters) })?.rounded()
            return [
                ReportTable.Cell(text: row.label),
                cell(parameters, 2, scale: 1e6),
                parameters.map { ReportTable.Cell(text: String(Int($0)), value: $0) } ?? .missing,
                cell(meanOfPresent(records.map { $0.cost.adapterBytes.map(Double.init) }), 1, scale: 1024),
                cell(meanOfPresent(records.map(\.cost.peakMemoryMB)), 0),
                cell(meanOfPresent(records.map(\.cost.trainImagesPerSecond)), 1),
                cell(meanOfPresent(records.map(\.cost.evalImagesPerSecond)), 1),
                cell(meanOfPresent(records.map(\.cost.mergedEvalImagesPerSecond)), 1),
            ]
        }
        let machines = Set(records.map { "\($0.cpu ?? "unknown CPU"), \($0.threads.map { "\($0) threads" } ?? "unknown threads")" })
        var warnings = grid.warnings
        if machines.count > 1 { warnings.append("throughput was measured on different machines: \(machines.sorted().joined(separator: "; "))") }
        let caption = "Cost per method: mean over its records (datasets × seeds). # Params without the head; adapter = saved trainable "
            + "tensors; peak memory while training; throughput in images per second on \(machines.sorted().joined(separator: "; ")); "
            + "merged = adapter folded into the backbone (– where the method cannot merge)."
        return ReportTable(caption: caption, warnings: warnings, columns: columns, rows: rows)
    }
}
