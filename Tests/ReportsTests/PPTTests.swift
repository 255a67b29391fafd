import Reports
import XCTest

final class PPTTests: XCTestCase {
    /// Table IV's worked examples (docs/paper-results.md): mean of 19 and # Params → PPT.
    func testPPTMatchesThePaper() throws {
        let rows: [(method: String, accuracy: Double, parameters: Int, ppt: Double)] = [
            ("dtl", 74.58, 40_000, 0.7445), ("ssf", 73.10, 210_000, 0.7244), ("hst", 75.99, 780_000, 0.7355),
            ("lst", 71.70, 2_380_000, 0.6535), ("linear", 52.94, 0, 0.5294),
        ]
        for row in rows {
            let ppt = try XCTUnwrap(PPT.value(accuracy: row.accuracy, trainableParameters: row.parameters, method: row.method))
            XCTAssertEqual(ppt, row.ppt, accuracy: 0.00005, row.method)
        }
    }

    func testFullFineTuningHasNoPPT() {
        XCTAssertNil(PPT.value(accuracy: 65.57, trainableParameters: 85_800_000, method: "full"))
    }

    func testIsoCurveInvertsTheFormula() {
        for parameters in [0.0, 40_000, 2_380_000, 85_800_000] {
            let accuracy = PPT.accuracy(forPPT: 0.7, trainableParameters: parameters)
            XCTAssertEqual(PPT.value(accuracy: accuracy, trainableParameters: Int(parameters)), 0.7, accuracy: 1e-12)
        }
    }
}
