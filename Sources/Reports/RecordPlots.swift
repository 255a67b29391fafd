import Foundation
import Viz

/// The bench's standard figures, drawn from run records: the PPT plot (mean accuracy vs.
/// parameters), accuracy per dataset as grouped bars, and training curves. Each returns a
/// `Plot`; `plot.write(to:)` saves it as PNG or SVG by extension.
public enum RecordPlots {
    /// One point per method configuration at (parameters, mean of its datasets); methods
    /// without a complete mean are left out (listed in the table's warnings).
    public static func ppt(records: [RunRecord], methodOrder: [String] = []) -> Plot {
        let grid = ResultGrid(records: records, methodOrder: methodOrder)
        let points = MethodSummary.summaries(of: grid).compactMap { summary -> PPTPlot.Point? in
            guard let mean = summary.meanOfDatasets, let parameters = summary.trainableParameters else { return nil }
            return PPTPlot.Point(label: summary.row.label, trainableParameters: parameters, accuracy: mean.mean,
                                 isFullFineTuning: summary.row.method == "full")
        }
        return PPTPlot.make(points: points, yLabel: "Mean accuracy over \(grid.datasets.count) datasets (%)")
    }

    /// Methods × datasets: one group of bars per dataset (paper column order), one bar per method.
    public static func datasetBars(records: [RunRecord], methodOrder: [String] = []) -> Plot {
        let grid = ResultGrid(records: records, methodOrder: methodOrder)
        let series = MethodSummary.summaries(of: grid).enumerated().map { index, summary in
            PlotSeries.bars(BarSeries(name: summary.row.label, values: grid.datasets.map { summary.perDataset[$0.name]?.mean },
                                      color: .categorical(index)))
        }
        return Plot(title: "Top-1 accuracy per dataset", xAxis: PlotAxis(label: "", scale: .categories(grid.datasets.map(\.shortName))),
                    yAxis: PlotAxis(label: "Top-1 accuracy (%)", range: 0...100), series: series, width: 1400, height: 640)
    }

    /// Datasets whose records carry per-epoch accuracy.
    public static func datasetsWithTrainingCurves(_ records: [RunRecord]) -> [String] {
        let names = Set(records.filter { !$0.perEpoch.isEmpty }.map(\.dataset))
        return DatasetCatalog.sorted(names.map { DatasetCatalog.entry(for: $0, recordedGroup: nil) }).map(\.name)
    }

    /// Per-epoch top-1 on `dataset`, one line per method configuration, averaged over seeds at
    /// each epoch.
    public static func trainingCurves(records: [RunRecord], dataset: String, methodOrder: [String] = []) throws -> Plot {
        let grid = ResultGrid(records: records.filter { $0.dataset == dataset && !$0.perEpoch.isEmpty }, methodOrder: methodOrder)
        guard !grid.rows.isEmpty else {
            throw ReportError("no per-epoch accuracy recorded for dataset '\(dataset)' (datasets with curves: "
                + "\(datasetsWithTrainingCurves(records).joined(separator: ", ")))")
        }
        let series = grid.rows.enumerated().map { index, row -> PlotSeries in
            let byEpoch = Dictionary(grouping: grid.records(row, dataset: dataset).flatMap(\.perEpoch), by: \.epoch)
            let points = byEpoch.keys.sorted().map { epoch in
                PlotPoint(x: Double(epoch), y: byEpoch[epoch]!.map(\.top1).reduce(0, +) / Double(byEpoch[epoch]!.count))
            }
            return .line(LineSeries(name: row.label, points: points, style: LineStyle(color: .categorical(index), width: 2),
                                    marker: points.count <= 30 ? .cycle(index) : nil))
        }
        return Plot(title: "Training curves: \(dataset)", xAxis: PlotAxis(label: "Epoch"),
                    yAxis: PlotAxis(label: "Top-1 accuracy (%)"), series: series)
    }

    /// Writes the standard figures into `directory` in each of `formats` ("png", "svg"):
    /// ppt, datasets (bars), and curves-<dataset> for every dataset with per-epoch accuracy.
    /// Returns the files written.
    @discardableResult
    public static func writeAll(records: [RunRecord], to directory: URL, formats: [String] = ["png", "svg"],
                                methodOrder: [String] = []) throws -> [URL] {
        var plots = [("ppt", ppt(records: records, methodOrder: methodOrder)),
                     ("datasets", datasetBars(records: records, methodOrder: methodOrder))]
        for dataset in datasetsWithTrainingCurves(records) {
            plots.append(("curves-\(dataset)", try trainingCurves(records: records, dataset: dataset, methodOrder: methodOrder)))
        }
        var written: [URL] = []
        for (name, plot) in plots {
            for format in formats {
                let url = directory.appendingPathComponent(name).appendingPathExtension(format)
                try plot.write(to: url)
                written.append(url)
            }
        }
        return written
    }
}
