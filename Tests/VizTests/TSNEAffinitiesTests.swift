import Foundation
import Tensor
import Viz
import XCTest

final class TSNEAffinitiesTests: XCTestCase {
    private func perplexity(_ p: [Double]) -> Double {
        exp(-p.filter { $0 > 0 }.map { $0 * log($0) }.reduce(0, +))
    }

    func testBandwidthSearchHitsTheTargetPerplexity() {
        var random = SeededRandom(seed: 5)
        let distances = (0..<60).map { _ in Double(random.nextUniform()) * 400 + 3 }
        for target in [2.0, 5.0, 20.0] {
            let p = TSNEAffinities.conditionalDistribution(squaredDistances: distances, perplexity: target)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertEqual(perplexity(p), target, accuracy: target * 1e-4)
        }
    }

    func testAffinitiesAreSymmetricAndSumToOne() {
        var random = SeededRandom(seed: 9)
        let x = Tensor.normal([40, 5], using: &random)
        guard case .dense(let p) = TSNEAffinities.dense(x, perplexity: 5) else { return XCTFail("dense expected") }
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
        for i in 0..<40 {
            XCTAssertEqual(p[i * 40 + i], 0)
            for j in 0..<40 { XCTAssertEqual(p[i * 40 + j], p[j * 40 + i], accuracy: 1e-15) }
        }
        guard case .sparse(let rowStart, let columns, let values) = TSNEAffinities.sparse(x, perplexity: 5) else {
            return XCTFail("sparse expected")
        }
        XCTAssertEqual(values.reduce(0, +), 1, accuracy: 1e-12)
        var sparse = [Double](repeating: 0, count: 40 * 40)
        for i in 0..<40 {
            XCTAssertEqual(Array(columns[rowStart[i]..<rowStart[i + 1]]), Array(columns[rowStart[i]..<rowStart[i + 1]]).sorted())
            for e in rowStart[i]..<rowStart[i + 1] { sparse[i * 40 + columns[e]] = values[e] }
        }
        for i in 0..<40 { for j in 0..<40 { XCTAssertEqual(sparse[i * 40 + j], sparse[j * 40 + i], accuracy: 1e-15) } }
        // 3 · perplexity = 15 neighbours carry almost all of a Gaussian of perplexity 5.
        let difference = zip(sparse, p).map { abs($0 - $1) }.reduce(0, +)
        XCTAssertLessThan(difference, 0.05)
    }
}
