import Foundation
import Viz

/// The whole report as one HTML page that opens offline (`vpeft report DIR --format html`): the
/// Table-IV-style accuracy table and the efficiency table (sortable by any column), the PPT plot,
/// accuracy per dataset and the training curves as inline SVG, and for every run its resolved
/// configuration and environment, collapsed. Everything comes from the run records, as the other
/// formats do; nothing is fetched when the page opens.
public enum HTMLReport {
    /// `source`: how to name the records' folder on the page.
    public static func make(records: [RunRecord], source: String) throws -> String {
        let grid = ResultGrid(records: records)
        var body = ["<h1>V-PEFT Bench report</h1>",
                    "<p>\(records.count) run record\(records.count == 1 ? "" : "s") from <code>\(Markup.escaped(source))</code>: "
                        + "\(grid.rows.count) method configuration\(grid.rows.count == 1 ? "" : "s") × \(grid.datasets.count) dataset\(grid.datasets.count == 1 ? "" : "s"). "
                        + "Click a column header to sort by it.</p>",
                    "<nav><a href=\"#accuracy\">Accuracy</a><a href=\"#efficiency\">Efficiency</a><a href=\"#ppt\">PPT plot</a>"
                        + "<a href=\"#datasets\">Per dataset</a><a href=\"#curves\">Training curves</a><a href=\"#runs\">Runs</a></nav>"]
        let scores = TaskTable.scoreTable(records: records)
        body.append(section("accuracy", "Accuracy", scores.html()))
        body.append(section("efficiency", "Efficiency", EfficiencyTable.make(records: records).html()))
        body.append(section("ppt", "Accuracy vs. trainable parameters (PPT)",
                            figure(RecordPlots.ppt(records: records), id: "ppt",
                                   caption: "Each method at its trainable parameters (without the head) and mean accuracy; dashed curves: constant PPT.")))
        body.append(section("datasets", "Accuracy per dataset", figure(RecordPlots.datasetBars(records: records), id: "datasets", caption: nil)))
        let curveDatasets = RecordPlots.datasetsWithTrainingCurves(records)
        let curves = try curveDatasets.enumerated().map { index, dataset in
            figure(try RecordPlots.trainingCurves(records: records, dataset: dataset), id: "curves\(index)", caption: nil)
        }
        body.append(section("curves", "Training curves",
                            curves.isEmpty ? "<p>No record holds per-epoch accuracy.</p>\n" : curves.joined()))
        body.append(section("runs", "Runs", runs(grid, source: source)))
        return HTMLPage.document(title: "V-PEFT Bench report: \(source)", body: body.joined(separator: "\n"))
    }

    private static func section(_ id: String, _ title: String, _ content: String) -> String {
        "<section id=\"\(id)\">\n<h2>\(Markup.escaped(title))</h2>\n\(content)</section>\n"
    }

    private static func figure(_ plot: Plot, id: String, caption: String?) -> String {
        "<figure>\n" + plot.svgElement(idPrefix: id + "-")
            + (caption.map { "<figcaption>\(Markup.escaped($0))</figcaption>\n" } ?? "") + "</figure>\n"
    }

    /// One collapsed block per record, in table order (method, dataset, seed).
    private static func runs(_ grid: ResultGrid, source: String) -> String {
        var blocks: [String] = []
        for row in grid.rows {
            for dataset in grid.datasets {
                for record in grid.records(row, dataset: dataset.name).sorted(by: { $0.seed < $1.seed }) {
                    let summary = "<strong>\(Markup.escaped(row.label))</strong> on \(Markup.escaped(record.dataset)), seed \(record.seed): "
                        + "\(format(record.accuracy, 2)) % (\(Markup.escaped(record.evaluationProtocol))"
                        + (record.reportedKind.map { ", \(Markup.escaped($0))" } ?? "") + ")"
                    var block = ["<details>", "<summary>\(summary)</summary>",
                                 "<p>Record <code>\(Markup.escaped(relativePath(record.file, to: source)))</code>"
                                    + (record.runID.map { ", run id <code>\(Markup.escaped($0))</code>" } ?? "") + "</p>"]
                    block.append(settings("Resolved configuration", record.configuration))
                    block.append(settings("Environment", record.environment))
                    block.append("</details>")
                    blocks.append(block.joined(separator: "\n"))
                }
            }
        }
        return blocks.joined(separator: "\n") + "\n"
    }

    private static func settings(_ title: String, _ values: [String: String]) -> String {
        guard !values.isEmpty else { return "<p>\(Markup.escaped(title)): not recorded.</p>" }
        let rows = values.keys.sorted().map { key in
            "<tr><td><code>\(Markup.escaped(key))</code></td><td>\(Markup.escaped(displayed(values[key]!)))</td></tr>"
        }
        return "<table class=\"settings\"><caption>\(Markup.escaped(title))</caption>\n<tbody>\n" + rows.joined(separator: "\n") + "\n</tbody></table>"
    }

    /// JSON strings without their quotes; numbers, booleans, lists and objects as JSON.
    private static func displayed(_ json: String) -> String {
        guard json.hasPrefix("\""), let text = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String else { return json }
        return text
    }

    private static func relativePath(_ file: URL, to source: String) -> String {
        let base = URL(fileURLWithPath: source).standardizedFileURL.path
        let path = file.standardizedFileURL.path
        return path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }
}
