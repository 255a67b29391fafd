import Foundation
import Reports
import XCTest

final class EfficiencyTableTests: XCTestCase {
    func testMeansOverRecordsAndDashesForMissingCosts() throws {
        let fixtures = try RecordFixtures(for: self)
        let costs: [[String: Any]] = [
            ["adapter_bytes": 1_228_800, "peak_memory_mb": 900, "train_images_per_s": 3.0, "eval_images_per_s": 9.0,
             "merged_eval_images_per_s": 9.5, "wall_seconds": 100],
            ["adapter_bytes": 1_433_600, "peak_memory_mb": 1000, "train_images_per_s": 4.0, "eval_images_per_s": 10.0,
             "merged_eval_images_per_s": 10.5, "wall_seconds": 100],
        ]
        for (seed, cost) in costs.enumerated() {
            try fixtures.write(RecordFixtures.record(method: "lora", dataset: "dtd", accuracy: 70, seed: seed, parameters: 294_912, cost: cost))
        }
        try fixtures.write(RecordFixtures.record(method: "adapter", dataset: "dtd", accuracy: 70, parameters: 156_768,
                                                 cost: ["adapter_bytes": 640_000, "peak_memory_mb": 800, "train_images_per_s": 5.0,
                                                        "eval_images_per_s": 11.0, "merged_eval_images_per_s": NSNull()]))
        let table = try EfficiencyTable.make(fromRecordsIn: fixtures.folder)
        XCTAssertEqual(table.columns.map(\.title), ["Method", "# Params (M)", "# Params", "Adapter (KB)", "Peak memory (MB)",
                                                    "Train img/s", "Inference img/s", "Merged inference img/s"])
        XCTAssertEqual(table.rows.map { $0.map(\.text) }, [
            ["Adapter", "0.16", "156768", "625.0", "800", "5.0", "11.0", "–"],
            ["LoRA", "0.29", "294912", "1300.0", "950", "3.5", "9.5", "10.0"],
        ])
        XCTAssertTrue(table.caption.contains("Test CPU, 2 threads"))
    }
}
