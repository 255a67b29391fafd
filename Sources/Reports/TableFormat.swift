import Foundation
import Viz

/// The output formats of tables: Markdown for READMEs and issues, CSV for spreadsheets, LaTeX
/// (booktabs) for papers, JSON for other tools.
public enum TableFormat: String, CaseIterable, Sendable {
    case markdown = "md", csv, latex, json

    /// From a file name's extension ("md", "csv", "tex", "json").
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "md", "markdown": self = .markdown
        case "csv": self = .csv
        case "tex", "latex": self = .latex
        case "json": self = .json
        default: return nil
        }
    }

    public func render(_ table: ReportTable) -> String {
        switch self {
        case .markdown: return table.markdown()
        case .csv: return table.csv()
        case .latex: return table.latex()
        case .json: return table.json()
        }
    }
}

extension ReportTable {
    /// Writes the table atomically in the format its extension names (.md, .csv, .tex, .json).
    public func write(to url: URL) throws {
        guard let format = TableFormat(fileExtension: url.pathExtension) else {
            throw ReportError("\(url.path): unknown table format '.\(url.pathExtension)' (use .md, .csv, .tex or .json)")
        }
        try AtomicFile.write(format.render(self), to: url)
    }
}
