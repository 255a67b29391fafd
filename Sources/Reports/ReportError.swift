/// A report that cannot be made as asked (unknown output format, no data for a plot), with
/// what to change.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
