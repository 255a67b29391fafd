import Foundation

/// How data values map onto an axis.
public enum AxisScale: Equatable, Sendable {
    case linear
    /// Logarithmic in base 10 (trainable parameters span 0.04M to 86M). Values ≤ 0 cannot be
    /// shown and are pinned to the axis's low end; callers label such points (e.g. "0 params").
    case log10
    /// Named slots 0, 1, …, n−1 (datasets under a bar chart); data x values are slot indices.
    case categories([String])

    /// The value's position along the axis as a fraction of the range: 0 at `range.lowerBound`,
    /// 1 at `range.upperBound`.
    public func fraction(of value: Double, in range: ClosedRange<Double>) -> Double {
        switch self {
        case .linear, .categories:
            return range.upperBound == range.lowerBound ? 0.5 : (value - range.lowerBound) / (range.upperBound - range.lowerBound)
        case .log10:
            let low = Foundation.log10(range.lowerBound), high = Foundation.log10(range.upperBound)
            guard value > 0 else { return 0 }
            return high == low ? 0.5 : (Foundation.log10(value) - low) / (high - low)
        }
    }

    /// The axis range for data spanning `extent`: rounded out to tick positions (decades for
    /// log10; slot edges for categories) so the frame starts and ends on labelled values.
    public func niceRange(covering extent: ClosedRange<Double>) -> ClosedRange<Double> {
        switch self {
        case .categories(let names):
            return -0.5...(Double(max(names.count, 1)) - 0.5)
        case .log10:
            let low = max(extent.lowerBound, Double.leastNormalMagnitude), high = max(extent.upperBound, low)
            var lowExponent = Foundation.log10(low).rounded(.down), highExponent = Foundation.log10(high).rounded(.up)
            if highExponent == lowExponent { lowExponent -= 1; highExponent += 1 }
            return pow(10, lowExponent)...pow(10, highExponent)
        case .linear:
            var low = extent.lowerBound, high = extent.upperBound
            if low == high {
                let pad = low == 0 ? 1 : abs(low) * 0.1
                low -= pad
                high += pad
            }
            let step = AxisTicks.niceStep(for: high - low, targetCount: 6)
            return (low / step).rounded(.down) * step...(high / step).rounded(.up) * step
        }
    }
}
