extension ReportTable {
    /// RFC 4180 CSV: a header row, then one line per row, cells as displayed (no emphasis, no
    /// caption or warnings: the file stays plain data a spreadsheet opens as is). Fields with
    /// commas, quotes or line breaks are quoted.
    public func csv() -> String {
        var lines = [columns.map { field($0.title) }.joined(separator: ",")]
        lines += rows.map { $0.map { field($0.text) }.joined(separator: ",") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
