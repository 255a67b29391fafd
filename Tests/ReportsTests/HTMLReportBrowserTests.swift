import Foundation
import Reports
import Viz
import XCTest

/// The HTML report as a browser shows it: headless Chromium renders the page to a PNG, read back
/// with the project's PNG reader. Runs only where Chromium is installed
/// (`bash scripts/check/install_chromium.sh`, or `make setup-browser`); skipped elsewhere.
/// `VPEFT_SCREENSHOT_DIR=DIR` keeps the page and the screenshot there for a person to look at.
final class HTMLReportBrowserTests: XCTestCase {
    private static let headerBackground = RGBColor(hex: 0xDFE7F2)   // `thead th` in HTMLPage's style

    private func chromium() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["VPEFT_CHROMIUM"] { return path }
        for folder in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let path = "\(folder)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
        }
        throw XCTSkip("Chromium is not installed (bash scripts/check/install_chromium.sh): the browser rendering check is skipped")
    }

    /// Runs the browser headless on `page`; returns its standard output.
    private func run(_ browser: String, _ arguments: [String], page: URL, profile: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                             "--force-device-scale-factor=1", "--user-data-dir=\(profile.path)"] + arguments + [page.absoluteString]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A browser that hangs must fail the test, not stall the suite.
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if process.isRunning { process.terminate() } }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(browser) \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    func testChromiumShowsTheTablesAboveThePlots() throws {
        let browser = try chromium()
        let fixtures = try RecordFixtures(for: self)
        try HTMLReportTests.writeRecords(fixtures)
        let folder = ProcessInfo.processInfo.environment["VPEFT_SCREENSHOT_DIR"].map { URL(fileURLWithPath: $0) }
            ?? fixtures.folder.appendingPathComponent("browser")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let page = folder.appendingPathComponent("report.html"), screenshot = folder.appendingPathComponent("report.png")
        try AtomicFile.write(try HTMLReport.make(records: try RunRecordLoader.load(from: fixtures.folder), source: "runs/example"), to: page)
        let profile = fixtures.folder.appendingPathComponent("chromium-profile")

        // The sort script ran without an error (it marks every sortable table), and a click on
        // the accuracy table's DTD header puts the best first: SSF (64.0) above LoRA (61.0).
        let html = try String(contentsOf: page, encoding: .utf8)
        let clicked = folder.appendingPathComponent("report-sorted.html")
        try AtomicFile.write(html.replacingOccurrences(of: "</body>", with: "<script>document.querySelector('#accuracy thead th:nth-child(2)').click();</script>\n</body>"),
                             to: clicked)
        let dom = try run(browser, ["--dump-dom"], page: clicked, profile: profile)
        XCTAssertEqual(dom.components(separatedBy: "class=\"sortable js-sortable\"").count - 1, 2, "sort script did not run")
        XCTAssertTrue(dom.contains("aria-sort=\"descending\">DTD</th>"), "clicked header not marked")
        let (ssf, lora) = (try XCTUnwrap(dom.range(of: ">SSF</th>")), try XCTUnwrap(dom.range(of: ">LoRA</th>")))
        XCTAssertLessThan(ssf.lowerBound, lora.lowerBound, "rows not sorted by DTD, best first")
        XCTAssertLessThan(html.range(of: ">LoRA</th>")!.lowerBound, html.range(of: ">SSF</th>")!.lowerBound, "the page itself lists LoRA first")

        try? FileManager.default.removeItem(at: screenshot)
        _ = try run(browser, ["--window-size=1280,2200", "--screenshot=\(screenshot.path)"], page: page, profile: profile)
        let image = try PNG.read(screenshot).rgbImage
        XCTAssertEqual(image.width, 1280)

        func near(_ a: RGBColor, _ b: RGBColor, _ tolerance: Int) -> Bool {
            abs(Int(a.red) - Int(b.red)) <= tolerance && abs(Int(a.green) - Int(b.green)) <= tolerance && abs(Int(a.blue) - Int(b.blue)) <= tolerance
        }
        /// Rows of the image holding at least `count` pixels of `color`.
        func rows(of color: RGBColor, tolerance: Int, atLeast count: Int) -> [Int] {
            (0..<image.height).filter { y in
                (0..<image.width).lazy.filter { near(image.color(x: $0, y: y), color, tolerance) }.prefix(count).count == count
            }
        }
        let inked = (0..<image.height).reduce(0) { sum, y in
            sum + (0..<image.width).filter { image.color(x: $0, y: y).luma < 200 }.count
        }
        XCTAssertGreaterThan(Double(inked) / Double(image.width * image.height), 0.01, "the page looks blank")

        // Both tables' header rows: wide bands of the header colour, the accuracy table's first.
        let headerRows = rows(of: Self.headerBackground, tolerance: 2, atLeast: 300)
        let bands = headerRows.reduce(into: [[Int]]()) { bands, y in
            if let last = bands.last?.last, y == last + 1 { bands[bands.count - 1].append(y) } else { bands.append([y]) }
        }
        XCTAssertEqual(bands.count, 2, "expected two table header bands, found rows \(headerRows)")
        // The plot's methods in their series colours (markers and curves), below the tables.
        for (index, color) in [RGBColor.categorical(0), .categorical(1)].enumerated() {
            let plotted = rows(of: color, tolerance: 8, atLeast: 3)
            XCTAssertGreaterThan(plotted.count, 5, "series colour \(index) (\(color.hexString)) not found")
            if let first = plotted.first, let tables = bands.last?.last {
                XCTAssertGreaterThan(first, tables, "series colour \(index) appears above the tables")
            }
        }
    }
}
