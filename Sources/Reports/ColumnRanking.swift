/// Marks the best and second-best value of a column, as papers do (bold, underline). Values
/// are compared as displayed: rows that print the same number share the mark, so a reader
/// never sees two equal numbers with different emphasis.
enum ColumnRanking {
    /// Sets `emphasis` on `cells[i]` where `displayed[i]` is the best or second-best value
    /// (higher is better). nil values take no part.
    static func mark(_ cells: inout [ReportTable.Cell], displayed: [Double?]) {
        let distinct = Set(displayed.compactMap { $0 }).sorted(by: >)
        guard let best = distinct.first else { return }
        let second = distinct.dropFirst().first
        for i in cells.indices {
            if displayed[i] == best {
                cells[i].emphasis = .best
            } else if let second, displayed[i] == second {
                cells[i].emphasis = .secondBest
            }
        }
    }
}
