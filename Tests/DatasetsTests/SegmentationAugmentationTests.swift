import Datasets
import Tensor
import XCTest

/// Joint image/label transforms: OpenCV's nearest rule for labels, mmcv's keep-ratio sizes,
/// mmseg's crop with cat_max_ratio, flips and padding applied to both alike.
final class SegmentationAugmentationTests: XCTestCase {
    /// Source pixel ⌊x · in / out⌋: 4 → 6 reads 0,0,1,2,2,3 (PIL's NEAREST would read 0,1,1,2,3,3).
    func testNearestResizeFollowsOpenCV() {
        let map = LabelMap(width: 4, height: 1, labels: [0, 1, 2, 3])
        XCTAssertEqual(map.resized(width: 6, height: 1).labels, [0, 0, 1, 2, 2, 3])
        XCTAssertEqual(map.resized(width: 2, height: 2).labels, [0, 2, 0, 2])
    }

    func testCropPadsWithIgnoreAndFlipMirrors() {
        let map = LabelMap(width: 3, height: 2, labels: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(map.cropped(to: .init(left: 1, top: 1, width: 3, height: 2)).labels, [5, 6, 255, 255, 255, 255])
        XCTAssertEqual(map.flippedHorizontally().labels, [3, 2, 1, 6, 5, 4])
    }

    /// mmcv's `rescale_size` for (2048, 512): a 640×480 image becomes 683×512.
    func testKeepRatioSize() {
        var a = SegmentationAugmentation()
        (a.ratioRange, a.cropSize, a.catMaxRatio, a.flipProbability) = ([1, 1], 1024, 1, 0)
        var rng = SeededRandom(seed: 1)
        let out = a.apply(image: image(width: 64, height: 48), labels: labels(width: 64, height: 48), rng: &rng)
        // 64×48 scaled by min(2048/64, 512/48) = 10.67 → 683×512, then padded to the 1024 crop.
        XCTAssertEqual([out.image.width, out.image.height], [1024, 1024])
        XCTAssertEqual(out.labels.labels[511 * 1024 + 683], 255, "right of the 683-wide image is padding")
        XCTAssertEqual(out.labels.labels[512 * 1024], 255, "below the 512-high image is padding")
        XCTAssertNotEqual(out.labels.labels[511 * 1024 + 682], 255)
    }

    /// At scale 1 and without photometric distortion the image is untouched, so after crop and
    /// flip each pixel's red value must still be 10 × its label: the two were cut and mirrored
    /// together. Both flips occur.
    func testImageAndLabelsStayAligned() {
        var a = SegmentationAugmentation()
        (a.scale, a.ratioRange, a.cropSize, a.catMaxRatio, a.photometricDistortion) = ([40, 30], [1, 1], 16, 1, nil)
        let (img, lab) = (image(width: 40, height: 30), labels(width: 40, height: 30))
        var flips = Set<Bool>()
        for seed in 0..<8 {
            var rng = SeededRandom(seed: UInt64(seed))
            let out = a.apply(image: img, labels: lab, rng: &rng)
            XCTAssertEqual([out.labels.width, out.labels.height], [16, 16])
            for i in 0..<(16 * 16) { XCTAssertEqual(Int(out.image.pixels[3 * i]), 10 * Int(out.labels.labels[i])) }
            // The label grows with x in the source, so a mirrored crop decreases along a row.
            flips.insert(out.labels.labels[0] > out.labels.labels[15])
        }
        XCTAssertEqual(flips, [true, false])
    }

    /// A 40×40 map of class 0 with a 20×20 block of class 1 in a corner: a 10×10 crop is
    /// balanced (neither class ≥ 75 %) only where it straddles the block's edge. With
    /// cat_max_ratio 0.75 dominated crops are redrawn (up to 10 times), so balanced crops are
    /// far more frequent than without.
    func testCatMaxRatioRedrawsDominatedCrops() {
        var a = SegmentationAugmentation()
        (a.scale, a.ratioRange, a.cropSize, a.flipProbability) = ([40, 40], [1, 1], 10, 0)
        var labels = [UInt8](repeating: 0, count: 40 * 40)
        for y in 0..<20 { for x in 0..<20 { labels[y * 40 + x] = 1 } }
        let map = LabelMap(width: 40, height: 40, labels: labels)
        func balanced(_ m: LabelMap) -> Bool {
            let ones = m.labels.filter { $0 == 1 }.count
            return ones > 0 && Float(max(ones, m.labels.count - ones)) / Float(m.labels.count) < 0.75
        }
        var withRatio = 0, without = 0
        for seed in 0..<40 {
            var rng = SeededRandom(seed: UInt64(seed))
            if balanced(a.apply(image: image(width: 40, height: 40), labels: map, rng: &rng).labels) { withRatio += 1 }
            var plain = a
            plain.catMaxRatio = 1
            var rng2 = SeededRandom(seed: UInt64(seed))
            if balanced(plain.apply(image: image(width: 40, height: 40), labels: map, rng: &rng2).labels) { without += 1 }
        }
        XCTAssertGreaterThan(withRatio, without + 5, "cat_max_ratio should find balanced crops far more often (\(withRatio) vs \(without))")
    }

    /// Label = x / 4 (0…9 on 40 columns), red = 10 × label.
    private func labels(width: Int, height: Int) -> LabelMap {
        LabelMap(width: width, height: height, labels: (0..<(width * height)).map { UInt8(($0 % width) / 4 % 25) })
    }

    private func image(width: Int, height: Int) -> RGB8Image {
        let l = labels(width: width, height: height).labels
        return RGB8Image(width: width, height: height, pixels: l.flatMap { [10 * $0, 7, 9] })
    }
}
