import Foundation

/// Learning-rate schedules with timm's semantics (cosine, step) and mmcv's (poly). `t` counts
/// epochs (or steps, for schedules stepped per update); the value at `t` is what timm's
/// scheduler sets after `step(t)`, or what mmcv's hook sets before iteration `t`.
public enum LearningRateSchedule: Equatable, Sendable {
    case constant(Double)
    /// timm `CosineLRScheduler` with one cycle (cycle_mul 1, cycle_decay 1, k_decay 1).
    case cosine(base: Double, tInitial: Int, warmupT: Int = 0, lrMin: Double = 0, warmupLRInit: Double = 0, warmupPrefix: Bool = false)
    /// timm `StepLRScheduler`: base · rate^⌊t / decayT⌋ after warm-up.
    case step(base: Double, decayT: Int, decayRate: Double, warmupT: Int = 0, warmupLRInit: Double = 0, warmupPrefix: Bool = true)

    /// mmcv's `PolyLrUpdaterHook` with linear warm-up (`by_epoch=False`: stepped every
    /// iteration), as mmseg's Swin UPerNet recipe configures it (power 1, min_lr 0, 1500 warm-up
    /// iterations, warmup_ratio 1e-6):
    ///     poly(t) = (base − minLR)·(1 − t/totalT)^power + minLR
    ///     t < warmupT:  poly(t)·(1 − (1 − t/warmupT)·(1 − warmupRatio))     (the warm-up scales the
    ///                   poly value, starting at warmupRatio·base)
    /// mmengine's `LinearLR` + `PolyLR(begin=warmupT)` differ slightly: its poly runs over
    /// [warmupT, totalT] only.
    case poly(base: Double, totalT: Int, power: Double = 1, minLR: Double = 0, warmupT: Int = 0, warmupRatio: Double = 1e-6)

    public func value(at t: Int) -> Double {
        switch self {
        case .constant(let lr):
            return lr
        case let .cosine(base, tInitial, warmupT, lrMin, warmupLRInit, warmupPrefix):
            if t < warmupT { return warmupLRInit + Double(t) * (base - warmupLRInit) / Double(warmupT) }
            let tt = warmupPrefix ? t - warmupT : t
            guard tt < tInitial else { return lrMin }
            return lrMin + 0.5 * (base - lrMin) * (1 + cos(Double.pi * Double(tt) / Double(tInitial)))
        case let .poly(base, totalT, power, minLR, warmupT, warmupRatio):
            let poly = (base - minLR) * pow(max(1 - Double(t) / Double(totalT), 0), power) + minLR
            guard t < warmupT else { return poly }
            return poly * (1 - (1 - Double(t) / Double(warmupT)) * (1 - warmupRatio))
        case let .step(base, decayT, decayRate, warmupT, warmupLRInit, warmupPrefix):
            if t < warmupT { return warmupLRInit + Double(t) * (base - warmupLRInit) / Double(warmupT) }
            let tt = warmupPrefix ? t - warmupT : t
            return base * pow(decayRate, Double(tt / decayT))
        }
    }
}
