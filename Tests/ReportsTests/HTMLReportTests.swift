import Foundation
import Reports
import XCTest

/// The structure of the HTML report: both tables with their rows, the plots as inline SVG, every
/// run's settings, names escaped, nothing fetched from elsewhere.
final class HTMLReportTests: XCTestCase {
    /// LoRA on two datasets with per-epoch curves (two seeds on dtd), SSF on dtd, each with costs
    /// and a recorded configuration.
    static func writeRecords(_ fixtures: RecordFixtures, extraMethod: String? = nil) throws {
        let cost: [String: Any] = ["adapter_bytes": 1_200_000, "peak_memory_mb": 812.5, "train_images_per_s": 150.0,
                                   "eval_images_per_s": 400.0, "wall_seconds": 60.0]
        var entries: [(String, String, Double, Int, Int)] = [("lora", "dtd", 60, 1, 294_912), ("lora", "dtd", 62, 2, 294_912),
                                                             ("lora", "eurosat", 90, 1, 294_912), ("ssf", "dtd", 64, 1, 205_824),
                                                             ("ssf", "eurosat", 91, 1, 205_824)]
        if let extraMethod { entries += [(extraMethod, "dtd", 50, 1, 1000), (extraMethod, "eurosat", 70, 1, 1000)] }
        for (method, dataset, accuracy, seed, parameters) in entries {
            var record = RecordFixtures.record(method: method, dataset: dataset, accuracy: accuracy, seed: seed, parameters: parameters,
                                               perEpoch: [(1, accuracy - 20), (2, accuracy - 5), (3, accuracy)], cost: cost)
            record["config"] = ["method": method, "lr": 0.001, "epochs": 3, "data_root": "/data/vtab-1k", "decay_all": true]
            try fixtures.write(record, as: "\(method.filter(\.isLetter))-\(dataset)-\(seed).json", in: "cells")
        }
    }

    func testPageHoldsBothTablesThePlotsAndEveryRunsSettings() throws {
        let fixtures = try RecordFixtures(for: self)
        try Self.writeRecords(fixtures)
        let records = try RunRecordLoader.load(from: fixtures.folder)
        let page = try HTMLReport.make(records: records, source: fixtures.folder.path)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        XCTAssertTrue(page.hasSuffix("</html>\n"))
        XCTAssertEqual(page.components(separatedBy: "<table class=\"sortable\">").count - 1, 2, "accuracy and efficiency tables")
        // Accuracy rows in the paper's order; LoRA's dtd cell is the mean ± std of its two seeds.
        XCTAssertTrue(page.contains("<tr><th scope=\"row\" class=\"left\">LoRA</th><td class=\"right\" data-value=\"61.0\"><u>61.0 ± 1.4</u></td>"), "LoRA second best on DTD")
        XCTAssertTrue(page.contains("<td class=\"right\" data-value=\"64.0\"><strong>64.0</strong></td>"), "SSF best on DTD")
        XCTAssertTrue(page.contains("<th scope=\"col\" class=\"right\">Peak memory (MB)</th>"))
        XCTAssertTrue(page.contains(">Mean of 2</th>"))
        // Plots: PPT, per-dataset bars, one training-curve plot per dataset, ids unique on the page.
        XCTAssertEqual(page.components(separatedBy: "<svg ").count - 1, 4)
        XCTAssertTrue(page.contains(">Training curves: dtd</text>") && page.contains(">Training curves: eurosat</text>"))
        let ids = page.components(separatedBy: " id=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        XCTAssertEqual(Set(ids).count, ids.count, "duplicate ids: \(ids)")
        // Every run, collapsed, with its configuration and environment.
        XCTAssertEqual(page.components(separatedBy: "<details>").count - 1, records.count)
        XCTAssertTrue(page.contains("<summary><strong>LoRA</strong> on dtd, seed 2: 62.00 % (vpetl, best (test-set selection))</summary>"))
        XCTAssertTrue(page.contains("<tr><td><code>data_root</code></td><td>/data/vtab-1k</td></tr>"))
        XCTAssertTrue(page.contains("<tr><td><code>decay_all</code></td><td>true</td></tr>"))
        XCTAssertTrue(page.contains("<tr><td><code>cpu</code></td><td>Test CPU</td></tr>"))
        XCTAssertTrue(page.contains("Record <code>cells/lora-dtd-1.json</code>"))
        // Self-contained: a script of its own, nothing loaded from elsewhere.
        XCTAssertTrue(page.contains("<script>") && page.contains("aria-sort"))
        for external in ["http://", "https://", "src=", "<link", "@import", "url(http"] {
            XCTAssertFalse(page.contains(external), "page refers to something outside it: \(external)")
        }
    }

    func testNamesAreEscapedEverywhere() throws {
        let fixtures = try RecordFixtures(for: self)
        try Self.writeRecords(fixtures, extraMethod: "<b onclick=\"x()\">&co")
        let page = try HTMLReport.make(records: try RunRecordLoader.load(from: fixtures.folder), source: "runs/<odd> & \"dir\"")
        XCTAssertFalse(page.contains("<b onclick"))
        XCTAssertTrue(page.contains("<th scope=\"row\" class=\"left\">&lt;b onclick=&quot;x()&quot;&gt;&amp;co</th>"))
        XCTAssertTrue(page.contains(">&lt;b onclick=&quot;x()&quot;&gt;&amp;co</text>"), "SVG labels escaped too")
        XCTAssertTrue(page.contains("<title>V-PEFT Bench report: runs/&lt;odd&gt; &amp; &quot;dir&quot;</title>"))
    }

    func testHTMLTableFormatIsAPageOfItsOwn() throws {
        let fixtures = try RecordFixtures(for: self)
        try Self.writeRecords(fixtures)
        XCTAssertEqual(TableFormat(fileExtension: "HTML"), .html)
        XCTAssertEqual(TableFormat(fileExtension: "htm"), .html)
        let table = EfficiencyTable.make(records: try RunRecordLoader.load(from: fixtures.folder))
        let url = fixtures.folder.appendingPathComponent("out/efficiency.html")
        try table.write(to: url)
        let page = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(page, TableFormat.html.render(table))
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(page.components(separatedBy: "<tr>").count - 1, 1 + table.rows.count)
        XCTAssertTrue(page.contains("<td class=\"right\" data-value=\"812.5\">812</td>"), "peak memory, value unrounded in data-value")
    }
}
