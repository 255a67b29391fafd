import Foundation
import Viz

/// The output formats of tables: Markdown for READMEs and issues, CSV for spreadsheets, LaTeX
/// (booktabs) for papers, JSON for other tools, HTML for a browser (a page of its own; `vpeft
/// report --format html` writes the whole report as one page instead, `HTMLReport`).
public enum TableFormat: String, CaseIterable, Sendable {
    case markdown = "md", csv, latex, json, html

    /// From a file name's extension ("md", "csv", "tex", "json", "html").
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "md", "markdown": self = .markdown
        case "csv": self = .csv
        case "tex", "latex": self = .latex
        case "json": self = .json
        case "html", "htm": self = .html
        default: return nil
        }
    }

    public func render(_ table: ReportTable) -> String {
        switch self {
        case .markdown: return table.markdown()
        case .csv: return table.csv()
        case .latex: return table.latex()
        case .json: return table.json()
        case .html: return HTMLPage.document(title: "V-PEFT Bench table", body: table.html())
        }
    }
}

extension ReportTable {
    /// Writes the table atomically in the format its extension names (.md, .csv, .tex, .json, .html).
    public func write(to url: URL) throws {
        guard let format = TableFormat(fileExtension: url.pathExtension) else {
            throw ReportError("\(url.path): unknown table format '.\(url.pathExtension)' (use .md, .csv, .tex, .json or .html)")
        }
        try AtomicFile.write(format.render(self), to: url)
    }
}
