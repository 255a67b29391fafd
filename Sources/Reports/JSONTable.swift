import Foundation

extension ReportTable {
    /// The table for other tools: caption, warnings, columns, and per cell the displayed text
    /// with the unrounded value, its std and its emphasis. Keys sorted, so output is stable.
    public func json() -> String {
        struct Document: Encodable {
            let caption: String
            let warnings: [String]
            let columns: [Column]
            let rows: [[Cell]]

            struct Column: Encodable {
                let title: String
                let alignment: String
            }

            struct Cell: Encodable {
                let text: String
                let value: Double?
                let std: Double?
                let emphasis: String?
            }
        }
        let document = Document(
            caption: caption, warnings: warnings,
            columns: columns.map { Document.Column(title: $0.title, alignment: $0.alignment.rawValue) },
            rows: rows.map { $0.map { Document.Cell(text: $0.text, value: $0.value, std: $0.standardDeviation, emphasis: $0.emphasis?.rawValue) } })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and finite numbers cannot fail.
        return String(decoding: try! encoder.encode(document), as: UTF8.self) + "\n"
    }
}
