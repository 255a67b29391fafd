import Tensor
import Viz
import XCTest

final class TSNETests: XCTestCase {
    /// 4 clusters × 50 points in 20-D: unit-variance noise around centres 10 apart.
    private func clusters(seed: UInt64 = 7) -> (Tensor, [Int]) {
        var random = SeededRandom(seed: seed)
        let perCluster = 50, dimensions = 20
        let x = Tensor.zeros([4 * perCluster, dimensions])
        var labels: [Int] = []
        for c in 0..<4 {
            for p in 0..<perCluster {
                let row = c * perCluster + p
                for k in 0..<dimensions { x.data[row * dimensions + k] = random.nextNormal() + (k % 4 == c ? 10 : 0) }
                labels.append(c)
            }
        }
        return (x, labels)
    }

    /// Share of points whose nearest class centroid (in the embedding) is their own class's.
    private func nearestCentroidPurity(_ y: Tensor, _ labels: [Int]) -> Double {
        let classes = Set(labels).sorted()
        let centroids = classes.map { c -> (Double, Double) in
            let members = labels.indices.filter { labels[$0] == c }
            let sx = members.map { Double(y.data[2 * $0]) }.reduce(0, +), sy = members.map { Double(y.data[2 * $0 + 1]) }.reduce(0, +)
            return (sx / Double(members.count), sy / Double(members.count))
        }
        let correct = labels.indices.filter { i in
            let distances = centroids.map { c in pow(Double(y.data[2 * i]) - c.0, 2) + pow(Double(y.data[2 * i + 1]) - c.1, 2) }
            return classes[distances.firstIndex(of: distances.min()!)!] == labels[i]
        }.count
        return Double(correct) / Double(labels.count)
    }

    func testExactTSNEKeepsClustersApart() throws {
        let (x, labels) = clusters()
        let y = try TSNE(perplexity: 15, method: .exact, iterations: 400).embed(x)
        XCTAssertEqual(y.shape, [200, 2])
        XCTAssertGreaterThanOrEqual(trustworthiness(high: x, low: y, k: 5), 0.9)
        XCTAssertEqual(nearestCentroidPurity(y, labels), 1)
    }

    func testBarnesHutTSNEKeepsClustersApart() throws {
        let (x, labels) = clusters()
        let y = try TSNE(perplexity: 15, method: .barnesHut(theta: 0.5), initialization: .random, iterations: 400, seed: 3).embed(x)
        XCTAssertGreaterThanOrEqual(trustworthiness(high: x, low: y, k: 5), 0.9)
        XCTAssertEqual(nearestCentroidPurity(y, labels), 1)
    }

    func testSameSeedSameEmbeddingDifferentSeedDifferent() throws {
        let (x, _) = clusters()
        let tsne = TSNE(perplexity: 10, method: .barnesHut(theta: 0.5), initialization: .random, iterations: 60, seed: 11)
        let a = try tsne.embed(x), b = try tsne.embed(x)
        XCTAssertEqual(a.scalars, b.scalars)
        var other = tsne
        other.seed = 12
        XCTAssertNotEqual(try other.embed(x).scalars, a.scalars)
        let pca = TSNE(perplexity: 10, method: .exact, initialization: .pca, iterations: 30)
        XCTAssertEqual(try pca.embed(x).scalars, try pca.embed(x).scalars)
    }

    func testPCAInitialisationStartsAtTheLeadingComponentsScaledTo1e4() throws {
        // Points on a line along (1, 2, 0): the first component carries all the variance.
        let x = Tensor(shape: [10, 3], (0..<10).flatMap { i in [Float(i), Float(2 * i), 0] })
        let y = try TSNE(perplexity: 2, method: .exact, iterations: 0).embed(x)
        let first = (0..<10).map { Double(y.data[2 * $0]) }, second = (0..<10).map { Double(y.data[2 * $0 + 1]) }
        let mean = first.reduce(0, +) / 10
        let std = (first.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 10).squareRoot()
        XCTAssertEqual(std, 1e-4, accuracy: 1e-9)
        XCTAssertTrue(zip(first, first.dropFirst()).allSatisfy { abs($0 - $1) > 0 })
        XCTAssertLessThan(second.map(abs).max()!, 1e-9)
    }

    func testRejectsTooLargePerplexity() {
        let x = Tensor.zeros([10, 3])
        XCTAssertThrowsError(try TSNE(perplexity: 5).embed(x))
    }

    func testTrustworthinessByHand() {
        // Five points on a line at gaps 1, 2, 4, 8; the embedding swaps the two end points.
        let high = Tensor(shape: [5, 1], [0, 1, 3, 7, 15])
        XCTAssertEqual(trustworthiness(high: high, low: high, k: 1), 1)
        let low = Tensor(shape: [5, 1], [15, 1, 3, 7, 0])
        // k = 1. Embedded nearest neighbour and its original rank: 0→3 (rank 3), 1→4 (4),
        // 2→1 (1), 3→2 (1), 4→1 (3). Penalty 2 + 3 + 0 + 0 + 2 = 7;
        // T = 1 − 7 · 2 / (5 · 1 · (10 − 3 − 1)) = 1 − 14/30.
        XCTAssertEqual(trustworthiness(high: high, low: low, k: 1), 1 - 14.0 / 30, accuracy: 1e-12)
    }
}
