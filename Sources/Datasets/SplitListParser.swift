import Foundation

/// Reads split list files: one `<relative path> <integer label>` per line, separated by
/// whitespace (VTAB-1k) or a comma (`path,label`, the video lists' CSV form). The format is
/// decided by the first entry; paths may contain spaces (the label is the last field).
public enum SplitListParser {
    public static func parse(_ url: URL, classCount: Int?, policy: BadSamplePolicy = .fail,
                             report: SkipReport = SkipReport()) throws -> [LabeledSample] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DatasetError(file: url.path, "split file is missing")
        }
        return try parse(contents: try ImageDecoder.readFile(url), source: url.path, classCount: classCount, policy: policy, report: report)
    }

    /// Parses list-file contents; `source` names the file in errors.
    public static func parse(contents data: Data, source: String, classCount: Int?, policy: BadSamplePolicy = .fail,
                             report: SkipReport = SkipReport()) throws -> [LabeledSample] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError(file: source, "split file is not UTF-8 text")
        }
        var samples: [LabeledSample] = []
        var commaSeparated: Bool?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let lineNumber = offset + 1
            if commaSeparated == nil { commaSeparated = isCommaSeparated(line) }
            let sample = try policy.attempt(report) {
                try parseLine(line, commaSeparated: commaSeparated!, classCount: classCount, source: source, line: lineNumber)
            }
            if let sample { samples.append(sample) }
        }
        guard !samples.isEmpty else {
            throw DatasetError(file: source, "split is empty (no '<path> <label>' lines)")
        }
        return samples
    }

    private static func isCommaSeparated(_ line: String) -> Bool {
        guard let comma = line.lastIndex(of: ",") else { return false }
        return Int(line[line.index(after: comma)...].trimmingCharacters(in: .whitespaces)) != nil
    }

    private static func parseLine(_ line: String, commaSeparated: Bool, classCount: Int?, source: String, line number: Int) throws -> LabeledSample {
        let separator: Character? = commaSeparated ? "," : nil
        let split = separator.map { s in line.lastIndex(of: s) } ?? line.lastIndex(where: \.isWhitespace)
        guard let cut = split else {
            throw DatasetError(file: source, line: number, "expected '<path>\(commaSeparated ? "," : " ")<label>', got '\(line)'")
        }
        let path = line[..<cut].trimmingCharacters(in: .whitespaces)
        let labelText = line[line.index(after: cut)...].trimmingCharacters(in: .whitespaces)
        guard let label = Int(labelText) else {
            throw DatasetError(file: source, line: number, "label '\(labelText)' is not an integer")
        }
        if let classCount, !(0..<classCount).contains(label) {
            throw DatasetError(file: source, line: number, "label \(label) is out of range 0..<\(classCount)")
        }
        if let problem = PathSafety.problem(with: path) {
            throw DatasetError(file: source, line: number, problem)
        }
        return LabeledSample(path: path, label: label, listFile: source, line: number)
    }
}
