import Foundation

/// A labelled position on an axis.
public struct AxisTick: Equatable, Sendable {
    public var value: Double
    public var label: String

    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}

/// "Nice" tick positions and their labels: steps of 1, 2 or 5 × 10^k on linear axes (what a
/// reader can interpolate between), powers of ten on log axes (with 2 and 5 in between when
/// the axis spans two decades or less, so short log axes still get several labels).
public enum AxisTicks {
    public static func ticks(for scale: AxisScale, range: ClosedRange<Double>, targetCount: Int = 6) -> [AxisTick] {
        switch scale {
        case .categories(let names):
            return names.enumerated().map { AxisTick(value: Double($0.offset), label: $0.element) }
        case .linear:
            let step = niceStep(for: range.upperBound - range.lowerBound, targetCount: targetCount)
            let first = (range.lowerBound / step - 1e-9).rounded(.up)
            let last = (range.upperBound / step + 1e-9).rounded(.down)
            guard first <= last else { return [] }
            let decimals = max(0, -Int(Foundation.log10(step).rounded(.down)))
            return stride(from: first, through: last, by: 1).map { k in
                let value = k * step
                return AxisTick(value: value, label: formatLinear(value, decimals: decimals))
            }
        case .log10:
            guard range.lowerBound > 0 else { return [] }
            let lowExponent = Int(Foundation.log10(range.lowerBound).rounded(.down))
            let highExponent = Int(Foundation.log10(range.upperBound).rounded(.up))
            let multipliers: [Double] = Foundation.log10(range.upperBound / range.lowerBound) <= 2 ? [1, 2, 5] : [1]
            var ticks: [AxisTick] = []
            for exponent in lowExponent...highExponent {
                for m in multipliers {
                    let value = m * pow(10, Double(exponent))
                    if value >= range.lowerBound * (1 - 1e-9), value <= range.upperBound * (1 + 1e-9) {
                        ticks.append(AxisTick(value: value, label: formatSI(value)))
                    }
                }
            }
            return ticks
        }
    }

    /// The 1/2/5 × 10^k step giving about `targetCount` intervals over `span`.
    public static func niceStep(for span: Double, targetCount: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(targetCount, 1))
        let magnitude = pow(10, Foundation.log10(raw).rounded(.down))
        let normalised = raw / magnitude
        let nice: Double = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// Compact labels for large counts: 1k, 100k, 1M, 2.5G; plain numbers below 1000.
    public static func formatSI(_ value: Double) -> String {
        let units: [(Double, String)] = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (size, suffix) in units where abs(value) >= size {
            return trimmed(value / size) + suffix
        }
        return trimmed(value)
    }

    private static func formatLinear(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// Up to 3 significant decimals without trailing zeros.
    private static func trimmed(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
