import Datasets
import Tensor
import XCTest

/// mmseg's PhotoMetricDistortion: each operation against values worked by hand from mmseg's
/// `convert` (float32, clip, truncate) and OpenCV's 8-bit HSV formulas.
final class PhotoMetricDistortionTests: XCTestCase {
    typealias P = PhotoMetricDistortion

    /// Brightness and contrast truncate after clipping: 200 + 10.75 → 210 (not 211), 5 + 10.75 → 15,
    /// 250 + 10.75 → 255, 5 − 10.75 → 0; 50 × 1.25 = 62.5 → 62, 230 × 1.25 → 255.
    func testConvertClipsThenTruncates() {
        XCTAssertEqual([200, 5, 250].map { P.convert(UInt8($0), beta: 10.75) }, [210, 15, 255])
        XCTAssertEqual([200, 5, 250].map { P.convert(UInt8($0), beta: -10.75) }, [189, 0, 239])
        XCTAssertEqual([100, 50, 230, 0].map { P.convert(UInt8($0), alpha: 1.25) }, [125, 62, 255, 0])
        XCTAssertEqual([101, 255].map { P.convert(UInt8($0), alpha: 0.5) }, [50, 127])
    }

    /// RGB (200, 100, 50): V = 200, S = 255 · 150 / 200 = 191.25 → 191, H = 20° / 2 = 10.
    /// Pure colours sit at 0, 60, 120 (halved); grey has H = S = 0; blue-magenta wraps (H < 0 + 180).
    func testRGBToHSVMatchesOpenCV() {
        XCTAssertTrue(OpenCVHSV.fromRGB(200, 100, 50) == (10, 191, 200))
        XCTAssertTrue(OpenCVHSV.fromRGB(255, 0, 0) == (0, 255, 255))
        XCTAssertTrue(OpenCVHSV.fromRGB(0, 255, 0) == (60, 255, 255))
        XCTAssertTrue(OpenCVHSV.fromRGB(0, 0, 255) == (120, 255, 255))
        XCTAssertTrue(OpenCVHSV.fromRGB(77, 77, 77) == (0, 0, 77))
        XCTAssertTrue(OpenCVHSV.fromRGB(0, 0, 0) == (0, 0, 0))
        // R max, G − B = −50 over diff 200: −15° = −7.5 exactly, but OpenCV's fixed point
        // (−50 · round(180 · 4096 / 1200) + 2048) >> 12 gives −7, so H = 173, not 172.
        XCTAssertTrue(OpenCVHSV.fromRGB(200, 0, 50) == (173, 255, 200))
        XCTAssertTrue(OpenCVHSV.fromRGB(200, 0, 100) == (165, 255, 200))
    }

    /// (10, 191, 200) back: h = 1/3 in sector 0, s = 191/255, v = 200/255:
    /// B = v(1 − s) = 50.2 → 50, G = v(1 − s(1 − h)) = 100.1 → 100, R = v → 200.
    func testHSVToRGBMatchesOpenCV() {
        XCTAssertTrue(OpenCVHSV.toRGB(10, 191, 200) == (200, 100, 50))
        XCTAssertTrue(OpenCVHSV.toRGB(30, 191, 200) == (200, 200, 50))
        XCTAssertTrue(OpenCVHSV.toRGB(0, 0, 77) == (77, 77, 77))
        XCTAssertTrue(OpenCVHSV.toRGB(120, 255, 255) == (0, 0, 255))
    }

    /// Fully saturated colours and greys survive RGB → HSV → RGB exactly; any colour comes back
    /// within the 8-bit hue quantisation (2° of hue ≈ V · S · 2/60 ≤ 9 levels).
    func testHSVRoundTrip() {
        var rng = SeededRandom(seed: 3)
        for _ in 0..<2000 {
            let rgb = (UInt8(rng.nextInt(256)), UInt8(rng.nextInt(256)), UInt8(rng.nextInt(256)))
            let hsv = OpenCVHSV.fromRGB(rgb.0, rgb.1, rgb.2)
            let back = OpenCVHSV.toRGB(hsv.h, hsv.s, hsv.v)
            for (a, b) in [(rgb.0, back.r), (rgb.1, back.g), (rgb.2, back.b)] { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 9, "\(rgb) → \(hsv) → \(back)") }
            XCTAssertEqual(max(back.r, back.g, back.b), max(rgb.0, rgb.1, rgb.2), "V is kept exactly")
        }
        for g in [0, 1, 128, 255] { XCTAssertTrue(OpenCVHSV.toRGB(0, 0, UInt8(g)) == (UInt8(g), UInt8(g), UInt8(g))) }
        for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)] {
            let hsv = OpenCVHSV.fromRGB(UInt8(c.0), UInt8(c.1), UInt8(c.2))
            XCTAssertTrue(OpenCVHSV.toRGB(hsv.h, hsv.s, hsv.v) == (UInt8(c.0), UInt8(c.1), UInt8(c.2)))
        }
    }

    /// Saturation × 0.5 on (200, 100, 50): S 191 → 95.5 → 95; back B = 125.5 → 125, G = 150.3 → 150.
    /// Hue + 20 moves H 10 → 30 (60°): (200, 200, 50); −20 wraps 10 → 170: R max, B = 100.1 → 100.
    func testSaturationAndHue() {
        let img = RGB8Image(width: 1, height: 1, pixels: [200, 100, 50])
        XCTAssertEqual(P.scaleSaturation(img, by: 0.5).pixels, [200, 150, 125])
        // S 191 × 2 clips at 255: B = 0, G = v · h = 200 / 3 = 66.7 → 67.
        XCTAssertEqual(P.scaleSaturation(img, by: 2).pixels, [200, 67, 0])
        XCTAssertEqual(P.shiftHue(img, by: 20).pixels, [200, 200, 50])
        XCTAssertEqual(P.shiftHue(img, by: -20).pixels, [200, 50, 100])
        XCTAssertEqual(P.shiftHue(img, by: 0).pixels, [200, 100, 50])
    }

    /// `apply` draws in mmseg's order — brightness coin (+β), mode, [contrast], saturation,
    /// hue, [contrast] — so replaying the same stream by hand through the single operations
    /// gives the same image; the same seed gives the same image, and seeds differ.
    func testApplyFollowsMMSegOrderAndIsDeterministic() {
        let p = P()
        let img = RGB8Image(width: 4, height: 2, pixels: (0..<24).map { UInt8(($0 * 37 + 11) % 256) })
        var outputs = Set<[UInt8]>()
        for seed in 0..<32 {
            var rng = SeededRandom(seed: UInt64(seed)), replay = rng
            let out = p.apply(to: img, rng: &rng)
            var again = SeededRandom(seed: UInt64(seed))
            XCTAssertEqual(p.apply(to: img, rng: &again), out)
            var expected = img
            func coin() -> Bool { replay.nextInt(2) == 1 }
            func uniform(_ a: Float, _ b: Float) -> Float { a + replay.nextUniform() * (b - a) }
            if coin() { expected = P.convert(expected, beta: uniform(-32, 32)) }
            let mode = replay.nextInt(2)
            if mode == 1, coin() { expected = P.convert(expected, alpha: uniform(0.5, 1.5)) }
            if coin() { expected = P.scaleSaturation(expected, by: uniform(0.5, 1.5)) }
            if coin() { expected = P.shiftHue(expected, by: replay.nextInt(36) - 18) }
            if mode == 0, coin() { expected = P.convert(expected, alpha: uniform(0.5, 1.5)) }
            XCTAssertEqual(out, expected, "seed \(seed)")
            outputs.insert(out.pixels)
        }
        XCTAssertGreaterThan(outputs.count, 16, "different seeds should distort differently")
    }

    /// Inside SegmentationAugmentation the distortion touches the image only: with it on or off the
    /// label maps are identical (its draws come after the geometric ones), the images are not.
    func testLabelsUntouchedInsideAugmentation() {
        var on = SegmentationAugmentation()
        (on.scale, on.ratioRange, on.cropSize, on.catMaxRatio) = ([24, 16], [0.8, 1.2], 12, 1)
        var off = on
        off.photometricDistortion = nil
        let img = RGB8Image(width: 24, height: 16, pixels: (0..<(24 * 16 * 3)).map { UInt8(($0 * 29) % 256) })
        let lab = LabelMap(width: 24, height: 16, labels: (0..<(24 * 16)).map { UInt8($0 % 7) })
        var imagesDiffer = 0
        for seed in 0..<8 {
            var r1 = SeededRandom(seed: UInt64(seed)), r2 = SeededRandom(seed: UInt64(seed))
            let a = on.apply(image: img, labels: lab, rng: &r1), b = off.apply(image: img, labels: lab, rng: &r2)
            XCTAssertEqual(a.labels, b.labels)
            if a.image != b.image { imagesDiffer += 1 }
        }
        XCTAssertGreaterThan(imagesDiffer, 4)
    }
}
