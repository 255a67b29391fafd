import Datasets
import Foundation
import XCTest

/// `vpeft data import --format csv`: CSV (and gzipped CSV) rows of grey pixels + label into the
/// VTAB-1k layout, through the same seeded class-balanced selection as the IDX and image-folder imports.
final class CSVImportTests: XCTestCase {
    // 4 wide × 3 high, so a swapped width/height would show.
    private let width = 4, height = 3

    /// Pixel `p` of row `r`: unique per row, spanning 0...maxValue.
    private func pixels(row r: Int, maxValue: Int = 255) -> [Int] {
        (0..<(width * height)).map { p in (r * 7 + p * 13) % (maxValue + 1) }
    }

    /// `classes × perClass` rows, classes interleaved, label in `labelColumn`.
    private func csvText(classes: Int, perClass: Int, labelFirst: Bool = false, header: String? = nil, maxValue: Int = 255) -> (String, [(label: Int, pixels: [Int])]) {
        var rows: [(label: Int, pixels: [Int])] = []
        for i in 0..<(classes * perClass) { rows.append((i % classes, pixels(row: i, maxValue: maxValue))) }
        var lines = header.map { [$0] } ?? []
        for row in rows {
            let values = row.pixels.map(String.init)
            lines.append((labelFirst ? [String(row.label)] + values : values + [String(row.label)]).joined(separator: ","))
        }
        return (lines.joined(separator: "\n") + "\n", rows)
    }

    private func write(_ text: String, _ name: String, gzip: Bool = false) throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent(name)
        try TinyDatasets.writeFile(gzip ? Self.gzipStored(Data(text.utf8)) : Data(text.utf8), to: url)
        return url
    }

    private var format: CSVImageFormat { CSVImageFormat(width: width, height: height) }

    func testImportBuildsABalancedVTABTaskWithTheCSVPixels() throws {
        let (text, rows) = csvText(classes: 3, perClass: 6)
        for gzip in [false, true] {
            let source = try write(text, gzip ? "digits.csv.gz" : "digits.csv", gzip: gzip)
            let out = try temporaryDirectory(self)
            let summary = try DatasetImporter.importCSV(from: source, into: out,
                                                        options: ImportOptions(name: "digits", trainCount: 6, valCount: 3, seed: 7), format: format)
            XCTAssertEqual([summary.trainCount, summary.valCount, summary.testCount, summary.classCount], [6, 3, 9, 3])
            XCTAssertEqual(summary.notes, ["read 18 rows of 4×3 pixels + label (label last column, no header) from \(source.lastPathComponent)"])
            let task = try VTAB1kDataset(folder: summary.folder)
            XCTAssertEqual(try task.split(.train800).classHistogram, [2, 2, 2])
            XCTAssertEqual(try task.split(.val200).classHistogram, [1, 1, 1])
            XCTAssertEqual(try task.split(.train800val200).count, 9)
            XCTAssertEqual(try task.split(.test).classHistogram, [3, 3, 3])
            // Every written PNG is a grey 4×3 image equal to a CSV row with the same label; no row twice.
            let byPixels = Dictionary(uniqueKeysWithValues: rows.map { ($0.pixels.map(UInt8.init), $0.label) })
            var seen = Set<[UInt8]>()
            for split in [VTAB1kDataset.Split.train800val200, .test] {
                let files = try task.split(split)
                for i in 0..<files.count {
                    let image = try files.loadImage(at: i)
                    XCTAssertEqual([image.width, image.height], [width, height])
                    let grey = stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
                    XCTAssertEqual(image.pixels, grey.flatMap { [$0, $0, $0] })
                    XCTAssertEqual(byPixels[grey], files.label(at: i), "\(split) #\(i)")
                    XCTAssertTrue(seen.insert(grey).inserted, "\(split) #\(i) written twice")
                }
            }
            XCTAssertEqual(seen.count, 18)
            XCTAssertTrue(try DatasetVerifier.verify(summary.folder).passed)
            XCTAssertEqual(try Data(contentsOf: summary.folder.appendingPathComponent("images/train/000000.png")).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        }
    }

    func testSameSeedSameSelectionAsTheOtherFormats() throws {
        // The selection is the shared one: same labels + seed ⇒ same lists, whatever the file format.
        let (text, _) = csvText(classes: 3, perClass: 6)
        let plain = try write(text, "a.csv"), zipped = try write(text, "a.csv.gz", gzip: true)
        let one = try DatasetImporter.importCSV(from: plain, into: try temporaryDirectory(self),
                                                options: ImportOptions(name: "t", trainCount: 6, valCount: 3, testCount: 6, seed: 3), format: format)
        let two = try DatasetImporter.importCSV(from: zipped, into: try temporaryDirectory(self),
                                                options: ImportOptions(name: "t", trainCount: 6, valCount: 3, testCount: 6, seed: 3), format: format)
        for list in ["train800.txt", "val200.txt", "test.txt"] {
            XCTAssertEqual(try String(contentsOf: one.folder.appendingPathComponent(list), encoding: .utf8),
                           try String(contentsOf: two.folder.appendingPathComponent(list), encoding: .utf8), list)
        }
        XCTAssertEqual(try VTAB1kDataset(folder: one.folder).split(.test).classHistogram, [2, 2, 2])
        XCTAssertEqual(one.notes.count, 1)
        let image = { (s: ImportSummary) in try Data(contentsOf: s.folder.appendingPathComponent("images/test/000003.png")) }
        XCTAssertEqual(try image(one), try image(two))
    }

    func testHeaderDetectionAndLabelColumn() throws {
        let names = ((0..<(width * height)).map { "pixel\($0)" } + ["label"]).joined(separator: ",")
        let (withHeader, rows) = csvText(classes: 2, perClass: 3, header: names)
        let auto = try CSVImageTable(data: Data(withHeader.utf8), source: "h.csv", format: format)
        XCTAssertTrue(auto.headerSkipped)
        XCTAssertEqual(auto.rows.map(\.label), rows.map(\.label))
        XCTAssertEqual(auto.rows.first?.line, 2)
        XCTAssertEqual(auto.rows.map(\.pixels), rows.map { $0.pixels.map(UInt8.init) })
        // Quoted header, CRLF line ends, blank lines, spaces around values.
        let messy = "\"p\",\"q\"\r\n\r\n" + withHeader.split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: ",", with: " , ") + "\r" }.joined(separator: "\n\n")
        let messyTable = try CSVImageTable(data: Data(messy.utf8), source: "m.csv", format: format)
        XCTAssertTrue(messyTable.headerSkipped)
        XCTAssertEqual(messyTable.rows.map(\.pixels), auto.rows.map(\.pixels))
        XCTAssertEqual(messyTable.rows.map(\.line), [3, 5, 7, 9, 11, 13])

        let (plain, _) = csvText(classes: 2, perClass: 3)
        let noHeader = try CSVImageTable(data: Data(plain.utf8), source: "p.csv", format: format)
        XCTAssertFalse(noHeader.headerSkipped)
        XCTAssertEqual(noHeader.rows.count, 6)
        XCTAssertEqual(noHeader.rows.first?.line, 1)
        // --header yes drops the first line even when numeric; --header no reads a header as a bad row.
        var yes = format; yes.header = .yes
        XCTAssertEqual(try CSVImageTable(data: Data(plain.utf8), source: "p.csv", format: yes).rows.count, 5)
        var no = format; no.header = .no
        expectDatasetError({ _ = try CSVImageTable(data: Data(withHeader.utf8), source: "h.csv", format: no) }, file: "h.csv", line: 1,
                           mentions: ["column 13", "'label' is not an integer"])

        // Label first.
        let (first, firstRows) = csvText(classes: 3, perClass: 2, labelFirst: true)
        var labelFirst = format; labelFirst.labelColumn = .first
        let table = try CSVImageTable(data: Data(first.utf8), source: "f.csv", format: labelFirst)
        XCTAssertEqual(table.rows.map(\.label), firstRows.map(\.label))
        XCTAssertEqual(table.rows.map(\.pixels), firstRows.map { $0.pixels.map(UInt8.init) })
        // Integral decimals as NumPy's savetxt writes them are integers.
        let numpy = (Array(repeating: "1.600000000000000000e+01", count: 12) + ["3.0"]).joined(separator: ",")
        var digits = format; digits.maxValue = 16
        let parsed = try CSVImageTable(data: Data(numpy.utf8), source: "n.csv", format: digits)
        XCTAssertEqual(parsed.rows.first?.label, 3)
        XCTAssertEqual(parsed.rows.first?.pixels, Array(repeating: 255, count: 12))
        XCTAssertFalse(parsed.headerSkipped)
    }

    func testMaxValueScalesToTheFullGreyRange() throws {
        var digits = format; digits.maxValue = 16
        let values = [0, 1, 2, 4, 8, 12, 15, 16, 3, 5, 7, 9]
        let table = try CSVImageTable(data: Data((values.map(String.init) + ["9"]).joined(separator: ",").utf8), source: "d.csv", format: digits)
        XCTAssertEqual(table.rows[0].pixels, values.map { UInt8(($0 * 255 + 8) / 16) })
        XCTAssertEqual(Array(table.rows[0].pixels.prefix(8)), [0, 16, 32, 64, 128, 191, 239, 255])
        XCTAssertTrue(table.description.contains("values 0–16 scaled to 0–255"), table.description)
        expectDatasetError({ _ = try CSVImageTable(data: Data((values.map { String($0 + 1) } + ["9"]).joined(separator: ",").utf8), source: "d.csv", format: digits) },
                           file: "d.csv", line: 1, mentions: ["column 8", "pixel value 17 is out of range 0...16"])

        // Through the import: the decoded PNG holds the scaled values.
        let (text, rows) = csvText(classes: 2, perClass: 4, maxValue: 16)
        let summary = try DatasetImporter.importCSV(from: try write(text, "d.csv"), into: try temporaryDirectory(self),
                                                    options: ImportOptions(name: "digits", trainCount: 2, valCount: 2), format: digits)
        let files = try VTAB1kDataset(folder: summary.folder).split(.test)
        let expected = Set(rows.map { $0.pixels.map { UInt8(($0 * 255 + 8) / 16) } })
        for i in 0..<files.count {
            let image = try files.loadImage(at: i)
            XCTAssertTrue(expected.contains(stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }))
        }
    }

    func testBadRowsNameFileAndLineOrAreSkipped() throws {
        let (good, _) = csvText(classes: 2, perClass: 4)
        var lines = good.split(separator: "\n").map(String.init)
        let twelve = { (v: String) in Array(repeating: v, count: 12).joined(separator: ",") }
        let cases: [(line: String, words: [String])] = [
            (twelve("0"), ["12 columns, expected 13 (12 pixels for 4×3 + label)"]),
            (twelve("0") + ",1,1", ["14 columns, expected 13"]),
            (twelve("0").replacingOccurrences(of: "0,0,0", with: "0,x,0", options: [], range: nil) + ",1", ["column 2", "'x' is not an integer"]),
            (twelve("0.5") + ",1", ["column 1", "'0.5' is not an integer"]),
            (twelve("0") + ",1.5", ["column 13", "'1.5' is not an integer"]),
            (twelve("0") + ",", ["column 13", "'' is not an integer"]),
            (twelve("256") + ",1", ["column 1", "pixel value 256 is out of range 0...255"]),
            (twelve("-1") + ",1", ["pixel value -1 is out of range"]),
            (twelve("0") + ",-2", ["column 13", "label -2 is out of range 0...99999"]),
            (twelve("0") + ",100000", ["label 100000 is out of range"]),
            (twelve("0") + ",nan", ["'nan' is not an integer"]),
        ]
        for (bad, words) in cases {
            var broken = lines
            broken.insert(bad, at: 3)   // line 4 of the file
            let text = broken.joined(separator: "\n") + "\n"
            let source = try write(text, "bad.csv.gz", gzip: true)
            expectDatasetError({ _ = try DatasetImporter.importCSV(from: source, into: try temporaryDirectory(self),
                                                            options: ImportOptions(name: "t", trainCount: 2, valCount: 2), format: format) },
                        file: "bad.csv.gz", line: 4, mentions: words)
        }
        // --skip-bad: bad rows are counted (by file and line) and left out; the rest imports.
        lines.insert(twelve("0"), at: 1)
        lines.insert(twelve("999") + ",0", at: 5)
        let source = try write(lines.joined(separator: "\n"), "some-bad.csv")
        let summary = try DatasetImporter.importCSV(from: source, into: try temporaryDirectory(self),
                                                    options: ImportOptions(name: "t", trainCount: 2, valCount: 2, badSamples: .skip), format: format)
        XCTAssertEqual(summary.skipped.count, 2)
        XCTAssertEqual(summary.skipped.entries.map { $0.components(separatedBy: "/").last! },
                       ["some-bad.csv:2: 12 columns, expected 13 (12 pixels for 4×3 + label)",
                        "some-bad.csv:6: column 1: pixel value 999 is out of range 0...255"])
        XCTAssertEqual(summary.trainCount + summary.valCount + summary.testCount, 8)

        // The wrong label column usually reads a constant border pixel as the label: warned about.
        let misread = try DatasetImporter.importCSV(from: try write(Array(repeating: "0,0,0,0,0,0,0,0,0,0,0,0,1", count: 6).joined(separator: "\n"), "m.csv"),
                                                    into: try temporaryDirectory(self), options: ImportOptions(name: "t", trainCount: 2, valCount: 2), format: format)
        XCTAssertEqual(misread.notes.last, "warning: every row has label 1; is --label-column first meant?")

        // Files that hold no images, and unusable settings.
        expectDatasetError({ _ = try CSVImageTable(data: Data("\n\n".utf8), source: "empty.csv", format: format) }, file: "empty.csv", mentions: ["no image rows"])
        expectDatasetError({ _ = try CSVImageTable(data: Data((twelve("0") + "\n").utf8), source: "all-bad.csv", format: format, badRows: .skip) },
                           file: "all-bad.csv", mentions: ["no usable image rows (1 bad rows skipped)"])
        var zeroMax = format; zeroMax.maxValue = 0
        expectDatasetError({ _ = try CSVImageTable(data: Data(good.utf8), source: "g.csv", format: zeroMax) }, file: "g.csv", mentions: ["--max-value"])
        expectDatasetError({ _ = try CSVImageTable(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv"), format: format) }, file: "x.csv", mentions: ["cannot read"])
        let truncated = try write("", "t.csv.gz")
        try TinyDatasets.writeFile(Self.gzipStored(Data(good.utf8)).prefix(40), to: truncated)
        expectDatasetError({ _ = try CSVImageTable(contentsOf: truncated, format: format) }, file: "t.csv.gz", mentions: ["gzip"])
    }

    // MARK: - Helpers

    /// A valid gzip file holding `data` in stored (uncompressed) deflate blocks: no zlib needed
    /// to write one, and any inflate must read it.
    static func gzipStored(_ data: Data) -> Data {
        var out = Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])
        let bytes = [UInt8](data)
        var offset = 0
        repeat {
            let n = min(65_535, bytes.count - offset)
            let last: UInt8 = offset + n == bytes.count ? 1 : 0
            out.append(contentsOf: [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)])
            out.append(contentsOf: bytes[offset..<(offset + n)])
            offset += n
        } while offset < bytes.count
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        for value in [crc, UInt32(truncatingIfNeeded: bytes.count)] {
            out.append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
        }
        return out
    }
}
