/// A finished table, independent of output format: caption, warnings, columns and cells with
/// their emphasis. Markdown, CSV, LaTeX and JSON writers (`TableFormat`) render the same value,
/// so every format shows the same numbers.
public struct ReportTable: Equatable, Sendable {
    public var caption: String
    /// Shown prominently above the table (e.g. records mixing protocols).
    public var warnings: [String]
    public var columns: [Column]
    public var rows: [[Cell]]

    public init(caption: String, warnings: [String] = [], columns: [Column], rows: [[Cell]]) {
        self.caption = caption
        self.warnings = warnings
        self.columns = columns
        self.rows = rows
    }

    public struct Column: Equatable, Sendable {
        public enum Alignment: String, Sendable { case left, right }
        public var title: String
        public var alignment: Alignment

        public init(_ title: String, alignment: Alignment = .right) {
            self.title = title
            self.alignment = alignment
        }
    }

    public enum Emphasis: String, Sendable { case best, secondBest = "second_best" }

    public struct Cell: Equatable, Sendable {
        /// As displayed, without markup ("72.3 ± 0.4", "–").
        public var text: String
        /// The unrounded number behind the text, for machine-readable output.
        public var value: Double?
        public var standardDeviation: Double?
        public var emphasis: Emphasis?

        public init(text: String, value: Double? = nil, standardDeviation: Double? = nil, emphasis: Emphasis? = nil) {
            self.text = text
            self.value = value
            self.standardDeviation = standardDeviation
            self.emphasis = emphasis
        }

        /// The dash tables print for "no value" (missing result, PPT of full fine-tuning).
        public static let missing = Cell(text: "–")
    }
}
