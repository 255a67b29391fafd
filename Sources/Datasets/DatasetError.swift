/// A problem with user data, naming the file (and line, for list files) and what was expected.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let reason: String

    public init(file: String, line: Int? = nil, _ reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}
