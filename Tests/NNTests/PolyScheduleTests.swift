import NN
import XCTest

/// mmcv's poly schedule with linear warm-up against values worked out by hand from
/// `PolyLrUpdaterHook.get_lr` and `LrUpdaterHook.get_warmup_lr` ('linear').
final class PolyScheduleTests: XCTestCase {
    func testPolyWithLinearWarmUpMatchesHandComputedValues() {
        // base 6e-5 (mmseg's Swin UPerNet), 100 iterations, 10 warm-up, ratio 1e-6, power 1.
        let s = LearningRateSchedule.poly(base: 6e-5, totalT: 100, power: 1, minLR: 0, warmupT: 10, warmupRatio: 1e-6)
        // t = 0: poly = 6e-5; k = (1 − 0)·(1 − 1e-6); lr = 6e-5·1e-6.
        XCTAssertEqual(s.value(at: 0), 6e-11, accuracy: 1e-20)
        // t = 5: poly = 6e-5·0.95 = 5.7e-5; k = 0.5·(1 − 1e-6); lr = 5.7e-5·(0.5 + 0.5e-6).
        XCTAssertEqual(s.value(at: 5), 5.7e-5 * 0.5000005, accuracy: 1e-18)
        // t = 9: poly = 6e-5·0.91 = 5.46e-5; k = 0.1·(1 − 1e-6); lr = 5.46e-5·(0.9 + 1e-7).
        XCTAssertEqual(s.value(at: 9), 5.46e-5 * 0.9000001, accuracy: 1e-18)
        // After warm-up the plain poly value: t = 10 → 5.4e-5, t = 75 → 1.5e-5, t = 100 → 0.
        XCTAssertEqual(s.value(at: 10), 5.4e-5, accuracy: 1e-18)
        XCTAssertEqual(s.value(at: 75), 1.5e-5, accuracy: 1e-18)
        XCTAssertEqual(s.value(at: 100), 0, accuracy: 1e-18)
    }

    func testPolyPowerAndFloor() {
        // power 0.9, min 1e-4: (1e-2 − 1e-4)·(1 − 50/200)^0.9 + 1e-4.
        let s = LearningRateSchedule.poly(base: 1e-2, totalT: 200, power: 0.9, minLR: 1e-4)
        XCTAssertEqual(s.value(at: 50), 9.9e-3 * pow(0.75, 0.9) + 1e-4, accuracy: 1e-15)
        XCTAssertEqual(s.value(at: 0), 1e-2, accuracy: 1e-15)
        XCTAssertEqual(s.value(at: 200), 1e-4, accuracy: 1e-15)
    }
}
