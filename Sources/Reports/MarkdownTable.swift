extension ReportTable {
    /// GitHub-flavoured Markdown: the caption as a paragraph, warnings as a quote block, best
    /// values **bold**, second best <u>underlined</u> (Markdown has no underline; GitHub
    /// renders the HTML tag).
    public func markdown() -> String {
        var lines = ["**Table.** " + caption, ""]
        for warning in warnings { lines += ["> **Warning:** " + warning, ""] }
        lines.append("| " + columns.map { escaped($0.title) }.joined(separator: " | ") + " |")
        lines.append("|" + columns.map { $0.alignment == .left ? ":---" : "---:" }.joined(separator: "|") + "|")
        for row in rows {
            let cells = row.map { cell -> String in
                let text = escaped(cell.text)
                switch cell.emphasis {
                case .best: return "**\(text)**"
                case .secondBest: return "<u>\(text)</u>"
                case nil: return text
                }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
    }
}
