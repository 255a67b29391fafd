import Foundation

/// Learning-rate schedules with timm's semantics. `t` counts epochs (or steps, for schedules
/// stepped per update); the value at `t` is what timm's scheduler sets after `step(t)`.
public enum LearningRateSchedule: Equatable, Sendable {
    case constant(Double)
    /// timm `CosineLRScheduler` with one cycle (cycle_mul 1, cycle_decay 1, k_decay 1).
    case cosine(base: Double, tInitial: Int, warmupT: Int = 0, lrMin: Double = 0, warmupLRInit: Double = 0, warmupPrefix: Bool = false)
    /// timm `StepLRScheduler`: base · rate^⌊t / decayT⌋ after warm-up.
    case step(base: Double, decayT: Int, decayRate: Double, warmupT: Int = 0, warmupLRInit: Double = 0, warmupPrefix: Bool = true)

    public func value(at t: Int) -> Double {
        switch self {
        case .constant(let lr):
            return lr
        case let .cosine(base, tInitial, warmupT, lrMin, warmupLRInit, warmupPrefix):
            if t < warmupT { return warmupLRInit + Double(t) * (base - warmupLRInit) / Double(warmupT) }
            let tt = warmupPrefix ? t - warmupT : t
            guard tt < tInitial else { return lrMin }
            return lrMin + 0.5 * (base - lrMin) * (1 + cos(Double.pi * Double(tt) / Double(tInitial)))
        case let .step(base, decayT, decayRate, warmupT, warmupLRInit, warmupPrefix):
            if t < warmupT { return warmupLRInit + Double(t) * (base - warmupLRInit) / Double(warmupT) }
            let tt = warmupPrefix ? t - warmupT : t
            return base * pow(decayRate, Double(tt / decayT))
        }
    }
}
