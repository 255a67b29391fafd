import Heads
import Tensor
import XCTest

/// mmseg's `slide_inference` and whole-image inference.
final class SegmentationInferenceTests: XCTestCase {
    /// Window placement as mmseg computes it: the last window is moved back to end at the border;
    /// an image smaller than the crop is one window.
    func testWindowsAreClampedToTheImage() {
        XCTAssertEqual(SegmentationInference.windows(length: 5, crop: 3, stride: 2).map { [$0.start, $0.length] }, [[0, 3], [2, 3]])
        // 6 with crop 4, stride 3: the second window would be 3..<7, moved back to 2..<6.
        XCTAssertEqual(SegmentationInference.windows(length: 6, crop: 4, stride: 3).map { [$0.start, $0.length] }, [[0, 4], [2, 4]])
        XCTAssertEqual(SegmentationInference.windows(length: 3, crop: 8, stride: 4).map { [$0.start, $0.length] }, [[0, 3]])
        XCTAssertEqual(SegmentationInference.windows(length: 10, crop: 4, stride: 3).map { [$0.start, $0.length] }, [[0, 4], [3, 4], [6, 4]])
    }

    /// A "model" whose output depends on the window (each pixel plus the window's mean), so
    /// overlapping windows disagree and the count-normalised average is visible. Expected values
    /// are summed by hand over the windows rows [0,3), [2,5) and columns [0,4), [2,6) of a 5×6
    /// image with crop 3×4… (square crop 4, stride 2: rows [0,4), [1,5); columns [0,4), [2,6)).
    func testSlideAveragesOverlappingWindowsByCount() {
        var rng = SeededRandom(seed: 5)
        let image = Tensor.normal([1, 2, 5, 6], using: &rng)
        let forward = { (crop: Tensor) -> Tensor in crop + crop.mean(dims: [0, 1, 2, 3]).item }
        let logits = SegmentationInference.slide(crop: 4, stride: 2).logits(image, forward)
        XCTAssertEqual(logits.shape, [1, 2, 5, 6])
        let rows = [0..<4, 1..<5], columns = [0..<4, 2..<6]
        func value(_ c: Int, _ y: Int, _ x: Int) -> Float { image.data[(c * 5 + y) * 6 + x] }
        for c in 0..<2 {
            for y in 0..<5 {
                for x in 0..<6 {
                    var sum: Float = 0, count: Float = 0
                    for r in rows where r.contains(y) {
                        for q in columns where q.contains(x) {
                            var mean: Float = 0
                            for cc in 0..<2 { for yy in r { for xx in q { mean += value(cc, yy, xx) } } }
                            mean /= Float(2 * r.count * q.count)
                            sum += value(c, y, x) + mean
                            count += 1
                        }
                    }
                    XCTAssertEqual(logits.data[(c * 5 + y) * 6 + x], sum / count, accuracy: 1e-5, "pixel \(c),\(y),\(x)")
                }
            }
        }
    }

    /// A window that covers the image is the whole-image forward.
    func testSlideEqualsWholeWhenOneWindowCoversTheImage() {
        var rng = SeededRandom(seed: 6)
        let image = Tensor.normal([2, 3, 7, 9], using: &rng)
        let forward = { (crop: Tensor) -> Tensor in (crop * 2).relu() + crop.mean(dims: [0, 1, 2, 3]).item }
        let whole = SegmentationInference.whole.logits(image, forward)
        let slid = SegmentationInference.slide(crop: 12, stride: 8).logits(image, forward)
        XCTAssertEqual(slid.scalars, whole.scalars)
    }

    func testHorizontalFlipMirrorsTheLastAxis() {
        let x = Tensor(shape: [1, 1, 2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(horizontallyFlipped(x).scalars, [3, 2, 1, 6, 5, 4])
    }
}
