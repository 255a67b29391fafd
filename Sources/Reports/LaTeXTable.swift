extension ReportTable {
    /// A LaTeX `table` with a booktabs `tabular` (needs `\usepackage{booktabs}`): best values
    /// \textbf, second best \underline, warnings as comments and as a note under the table.
    public func latex() -> String {
        var lines = warnings.map { "% Warning: " + $0 }
        lines += [
            "\\begin{table}[t]",
            "\\centering",
            "\\caption{\(escaped(caption))}",
            "\\begin{tabular}{" + columns.map { $0.alignment == .left ? "l" : "r" }.joined() + "}",
            "\\toprule",
            columns.map { escaped($0.title) }.joined(separator: " & ") + " \\\\",
            "\\midrule",
        ]
        for row in rows {
            let cells = row.map { cell -> String in
                let text = escaped(cell.text)
                switch cell.emphasis {
                case .best: return "\\textbf{\(text)}"
                case .secondBest: return "\\underline{\(text)}"
                case nil: return text
                }
            }
            lines.append(cells.joined(separator: " & ") + " \\\\")
        }
        lines += ["\\bottomrule", "\\end{tabular}"]
        for warning in warnings { lines.append("\\par\\footnotesize Warning: \(escaped(warning))") }
        lines.append("\\end{table}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// TeX's special characters escaped; the few Unicode symbols tables use mapped to math.
    private func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(character)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "±": out += "$\\pm$"
            case "–": out += "--"
            case "−": out += "$-$"
            case "·": out += "$\\cdot$"
            case "×": out += "$\\times$"
            default: out.append(character)
            }
        }
        return out
    }
}
