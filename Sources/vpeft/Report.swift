import ArgumentParser
import Foundation
import Reports
import Training
import Viz

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paper-style tables and plots from the run records in a folder (never recomputed by hand).",
        discussion: """
        Reads every run record (schema vpeft-run/1) below DIR and prints the Table-IV-style accuracy \
        table: per-dataset accuracy, group means, the mean of datasets and the mean of group means \
        (both labelled), trainable parameters without the head, PPT (C = 10^7), seeds as mean ± std, \
        best and second best marked, the protocol in the caption. Video and segmentation records get \
        the layout of the paper's Tables V and VI instead: per backbone and method, parameters, peak \
        training memory, and each dataset's top-1 or mIoU beside its PPT. --efficiency prints the cost table \
        instead; --plots DIR writes the PPT plot, per-dataset bars and training curves (PNG and SVG). \
        --format html (or --output FILE.html) makes one self-contained page instead: both tables \
        (sortable), the plots as inline SVG and every run's configuration and environment; it opens \
        offline in any browser.
        """)

    @Argument(help: "A folder of run records (searched recursively).") var directory: String
    @Option(help: "Output format: \(TableFormat.allCases.map(\.rawValue).joined(separator: ", ")).") var format = TableFormat.markdown
    @Option(help: "Also write the table to this file (format from its extension); with html, write the page there instead of printing it.")
    var output: String?
    @Option(help: "Write plots into this folder.") var plots: String?
    @Flag(help: "The efficiency table (params, adapter KB, memory, images/s) instead of accuracy.") var efficiency = false
    @Option(help: "Only records of this protocol (\(EvaluationProtocol.allCases.map(\.rawValue).joined(separator: ", "))); default: all but honest-select selection runs.")
    var `protocol`: EvaluationProtocol?

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        let records = try RunRecordLoader.load(from: folder).filter { r in
            `protocol`.map { r.evaluationProtocol == $0.rawValue } ?? (r.evaluationProtocol != "honest-select")
        }
        let outputURL = output.map { URL(fileURLWithPath: $0) }
        if format == .html || outputURL.flatMap({ TableFormat(fileExtension: $0.pathExtension) }) == .html {
            let page = try HTMLReport.make(records: records, source: directory)
            if let outputURL {
                try AtomicFile.write(page, to: outputURL)
                print("wrote \(outputURL.path)")
            } else {
                print(page, terminator: "")
            }
        } else {
            let table = efficiency ? EfficiencyTable.make(records: records)
                : TaskTable.scoreTable(records: records)
            print(format.render(table))
            if let outputURL { try table.write(to: outputURL) }
        }
        if let plots {
            let written = try RecordPlots.writeAll(records: records, to: URL(fileURLWithPath: plots))
            for url in written { print("wrote \(url.path)") }
        }
    }
}
