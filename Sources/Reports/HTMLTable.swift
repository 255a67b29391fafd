import Viz

extension ReportTable {
    /// An HTML `<table>` with its warnings and caption above it: a header row, one row per
    /// method (its label as the row header), best values in `<strong>`, second best `<u>`, as the
    /// paper marks them. Numeric cells carry their unrounded value in `data-value` for the page's
    /// sort script (`HTMLPage`); without the script the table reads the same, in report order.
    public func html() -> String {
        // The caption is a paragraph, not a <caption>: a table caption is only as wide as its
        // table, which squeezes the long caption of a small table into a narrow column.
        var lines = warnings.map { "<p class=\"warning\"><strong>Warning:</strong> \(Markup.escaped($0))</p>" }
        lines.append("<p class=\"caption\">\(Markup.escaped(caption))</p>")
        lines.append("<div class=\"table-scroll\"><table class=\"sortable\">")
        lines.append("<thead><tr>" + columns.map { "<th scope=\"col\" class=\"\($0.alignment.rawValue)\">\(Markup.escaped($0.title))</th>" }.joined()
                     + "</tr></thead>")
        lines.append("<tbody>")
        for row in rows {
            let cells = zip(columns, row).enumerated().map { index, pair -> String in
                let (column, cell) = pair
                var text = Markup.escaped(cell.text)
                switch cell.emphasis {
                case .best: text = "<strong>\(text)</strong>"
                case .secondBest: text = "<u>\(text)</u>"
                case nil: break
                }
                let value = cell.value.map { " data-value=\"\($0)\"" } ?? ""
                let element = index == 0 ? "th" : "td"
                let scope = index == 0 ? " scope=\"row\"" : ""
                return "<\(element)\(scope) class=\"\(column.alignment.rawValue)\"\(value)>\(text)</\(element)>"
            }
            lines.append("<tr>" + cells.joined() + "</tr>")
        }
        lines.append("</tbody>")
        lines.append("</table></div>")
        return lines.joined(separator: "\n") + "\n"
    }
}
