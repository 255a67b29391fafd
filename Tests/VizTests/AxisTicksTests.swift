import Viz
import XCTest

final class AxisTicksTests: XCTestCase {
    func testLogAxisTicksAtDecadesWithSILabels() {
        let range = AxisScale.log10.niceRange(covering: 40_000...85_800_000)
        XCTAssertEqual(range, 1e4...1e8)
        let ticks = AxisTicks.ticks(for: .log10, range: range)
        XCTAssertEqual(ticks.map(\.value), [1e4, 1e5, 1e6, 1e7, 1e8])
        XCTAssertEqual(ticks.map(\.label), ["10k", "100k", "1M", "10M", "100M"])
    }

    func testShortLogAxisAddsTwoAndFive() {
        let ticks = AxisTicks.ticks(for: .log10, range: 1...100)
        XCTAssertEqual(ticks.map(\.value), [1, 2, 5, 10, 20, 50, 100])
    }

    func testLogFractionIsLinearInTheExponent() {
        XCTAssertEqual(AxisScale.log10.fraction(of: 1e5, in: 1e4...1e8), 0.25, accuracy: 1e-12)
        XCTAssertEqual(AxisScale.log10.fraction(of: 0, in: 1e4...1e8), 0)
    }

    func testLinearTicksUseNiceSteps() {
        let range = AxisScale.linear.niceRange(covering: 52.9...76.0)
        XCTAssertEqual(range, 50...80)
        let ticks = AxisTicks.ticks(for: .linear, range: range)
        XCTAssertEqual(ticks.map(\.label), ["50", "55", "60", "65", "70", "75", "80"])
        XCTAssertEqual(AxisTicks.ticks(for: .linear, range: 0...1).map(\.label).prefix(3), ["0.0", "0.2", "0.4"])
    }

    func testSILabels() {
        XCTAssertEqual(AxisTicks.formatSI(294_912), "294.912k")
        XCTAssertEqual(AxisTicks.formatSI(2_500_000), "2.5M")
        XCTAssertEqual(AxisTicks.formatSI(0.5), "0.5")
    }
}
