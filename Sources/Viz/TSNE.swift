import Foundation
import Tensor

/// t-SNE (van der Maaten & Hinton, 2008) for looking at pooled features in 2-D: exact O(n²)
/// gradients for a few hundred points, Barnes-Hut (van der Maaten, 2014; quadtree, θ = 0.5) for
/// thousands. The optimisation follows the reference implementation (bhtsne): learning rate
/// 200, early exaggeration 12 for the first 250 iterations, momentum 0.5 then 0.8 from
/// iteration 250, per-coordinate gains (+0.2 / ×0.8, floor 0.01), embedding re-centred every
/// step. Deterministic for a given seed and input (and thread count, via BLAS).
public struct TSNE: Sendable {
    public enum Method: Sendable, Equatable {
        case exact
        case barnesHut(theta: Double)
        /// Exact up to `TSNE.exactLimit` points, Barnes-Hut with θ = 0.5 above.
        case automatic
    }

    public enum Initialization: Sendable, Equatable {
        /// Top-2 principal components, scaled so the first has standard deviation 1e-4
        /// (scikit-learn's "pca" init): global structure starts right, and no seed is needed.
        case pca
        /// Normal(0, 1e-4²) from `seed`, as the reference implementation.
        case random
    }

    public struct InputError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Largest n for which `.automatic` uses exact gradients.
    public static let exactLimit = 1000

    public var perplexity: Double
    public var method: Method
    public var initialization: Initialization
    public var iterations: Int
    public var learningRate: Double
    public var earlyExaggeration: Double
    public var exaggerationIterations: Int
    public var momentumSwitchIteration: Int
    public var seed: UInt64

    public init(perplexity: Double = 30, method: Method = .automatic, initialization: Initialization = .pca,
                iterations: Int = 1000, learningRate: Double = 200, earlyExaggeration: Double = 12,
                exaggerationIterations: Int = 250, momentumSwitchIteration: Int = 250, seed: UInt64 = 0) {
        self.perplexity = perplexity
        self.method = method
        self.initialization = initialization
        self.iterations = iterations
        self.learningRate = learningRate
        self.earlyExaggeration = earlyExaggeration
        self.exaggerationIterations = exaggerationIterations
        self.momentumSwitchIteration = momentumSwitchIteration
        self.seed = seed
    }

    /// Embeds the rows of `features` ([n, d]) in 2-D; returns [n, 2].
    public func embed(_ features: Tensor) throws -> Tensor {
        guard features.rank == 2, features.shape[0] >= 2, features.shape[1] >= 1 else {
            throw InputError(description: "t-SNE: expected features of shape [n ≥ 2, d ≥ 1], got \(features.shape)")
        }
        let n = features.shape[0]
        guard perplexity > 0, Double(n - 1) >= 3 * perplexity else {
            throw InputError(description: "t-SNE: perplexity \(perplexity) is too large for \(n) points (need n − 1 ≥ 3 · perplexity)")
        }
        guard (0..<features.count).allSatisfy({ features.data[$0].isFinite }) else {
            throw InputError(description: "t-SNE: features contain NaN or infinite values")
        }
        let theta: Double?
        switch method {
        case .exact: theta = nil
        case .barnesHut(let t): theta = t
        case .automatic: theta = n <= Self.exactLimit ? nil : 0.5
        }
        let affinities = theta == nil ? TSNEAffinities.dense(features, perplexity: perplexity)
                                      : TSNEAffinities.sparse(features, perplexity: perplexity)
        var y = initialEmbedding(features)
        var gradient = [Double](repeating: 0, count: 2 * n)
        var update = [Double](repeating: 0, count: 2 * n)
        var gains = [Double](repeating: 1, count: 2 * n)
        for iteration in 0..<iterations {
            let exaggeration = iteration < exaggerationIterations ? earlyExaggeration : 1
            let momentum = iteration < momentumSwitchIteration ? 0.5 : 0.8
            switch affinities {
            case .dense(let p):
                TSNEGradient.exact(p: p, y: y, exaggeration: exaggeration, into: &gradient)
            case .sparse(let rowStart, let columns, let values):
                TSNEGradient.barnesHut(rowStart: rowStart, columns: columns, values: values, y: y, theta: theta!,
                                       exaggeration: exaggeration, into: &gradient)
            }
            for k in 0..<(2 * n) {
                // Gains grow where the gradient keeps pointing against the running update.
                gains[k] = max(sign(gradient[k]) != sign(update[k]) ? gains[k] + 0.2 : gains[k] * 0.8, 0.01)
                update[k] = momentum * update[k] - learningRate * gains[k] * gradient[k]
                y[k] += update[k]
            }
            recenter(&y)
        }
        return Tensor(shape: [n, 2], y.map { Float($0) })
    }

    private func initialEmbedding(_ features: Tensor) -> [Double] {
        let n = features.shape[0]
        switch initialization {
        case .random:
            var random = SeededRandom(seed: seed)
            return (0..<(2 * n)).map { _ in 1e-4 * Double(random.nextNormal()) }
        case .pca:
            var y = PrincipalComponents.project(features, components: 2)
            let first = stride(from: 0, to: 2 * n, by: 2).map { y[$0] }
            let mean = first.reduce(0, +) / Double(n)
            let std = (first.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)).squareRoot()
            let factor = std > 0 ? 1e-4 / std : 1
            for k in 0..<(2 * n) { y[k] *= factor }
            return y
        }
    }

    /// −1, 0 or 1 (zero has its own sign, as in the reference's gain rule).
    private func sign(_ v: Double) -> Double { v == 0 ? 0 : (v < 0 ? -1 : 1) }

    private func recenter(_ y: inout [Double]) {
        let n = y.count / 2
        var meanX = 0.0, meanY = 0.0
        for i in 0..<n { meanX += y[2 * i]; meanY += y[2 * i + 1] }
        meanX /= Double(n)
        meanY /= Double(n)
        for i in 0..<n { y[2 * i] -= meanX; y[2 * i + 1] -= meanY }
    }
}
