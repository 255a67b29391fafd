import Tensor
import Viz
import XCTest

final class AttentionTests: XCTestCase {
    func testOverlayIsBrightestOverTheHotPatch() {
        var values = [Float](repeating: 0.01, count: 14 * 14)
        values[3 * 14 + 10] = 1    // row 3, column 10
        let image = RGBImage(width: 224, height: 224, background: (128, 128, 128))
        let overlay = AttentionOverlay.render(image: image, attention: AttentionMap(rows: 14, columns: 14, values: values))
        XCTAssertEqual(overlay.width, 224)
        var brightest = (luma: -1.0, x: 0, y: 0)
        for y in 0..<224 {
            for x in 0..<224 {
                let luma = overlay.color(x: x, y: y).luma
                if luma > brightest.luma { brightest = (luma, x, y) }
            }
        }
        // Patch (3, 10) covers x 160..<176, y 48..<64.
        XCTAssertTrue((160..<176).contains(brightest.x) && (48..<64).contains(brightest.y), "\(brightest)")
        XCTAssertGreaterThan(brightest.luma, overlay.color(x: 20, y: 200).luma + 50)
    }

    func testAlphaZeroLeavesTheImageAndConstantMapsAreFlat() {
        let image = RGBImage(width: 8, height: 8, background: (10, 200, 30))
        let map = AttentionMap(rows: 2, columns: 2, values: [0, 1, 2, 3])
        XCTAssertEqual(AttentionOverlay.render(image: image, attention: map, alpha: 0), image)
        let flat = AttentionOverlay.render(image: image, attention: AttentionMap(rows: 2, columns: 2, values: [5, 5, 5, 5]), alpha: 1)
        XCTAssertEqual(Set(flat.pixels), Set([0x44, 0x01, 0x54]))   // viridis(0) everywhere
    }

    func testBilinearUpsamplingHitsPatchCentres() {
        let map = AttentionMap(rows: 1, columns: 2, values: [0, 1])
        let row = map.upsampled(width: 4, height: 1)
        XCTAssertEqual(row, [0, 0.25, 0.75, 1])
    }

    func testRolloutMatchesAHandComputation() {
        // Two layers, N = 2. Layer 1 has two heads averaging to [[0.5, 0.5], [0.2, 0.8]];
        // with the identity: [[1.5, 0.5], [0.2, 1.8]] → rows /2: Â1 = [[0.75, 0.25], [0.1, 0.9]].
        // Layer 2, one head [[0, 1], [1, 0]] → Â2 = [[0.5, 0.5], [0.5, 0.5]].
        // R = Â2 · Â1 = [[0.425, 0.575], [0.425, 0.575]].
        let layer1: [[[Float]]] = [[[1, 0], [0.4, 0.6]], [[0, 1], [0, 1]]]
        let layer2: [[[Float]]] = [[[0, 1], [1, 0]]]
        let r = AttentionRollout.rollout([layer1, layer2])
        for (got, want) in zip(r.flatMap { $0 }, [0.425, 0.575, 0.425, 0.575] as [Float]) {
            XCTAssertEqual(got, want, accuracy: 1e-6)
        }
        // One layer alone is just Â1; order matters (Â1 · Â2 would differ).
        let single = AttentionRollout.rollout([layer1])
        XCTAssertEqual(single[1][0], 0.1, accuracy: 1e-6)
        let reversed = AttentionRollout.rollout([layer2, layer1])
        XCTAssertEqual(reversed[0][0], 0.75 * 0.5 + 0.25 * 0.5, accuracy: 1e-6)   // 0.5, not 0.425
    }

    func testRolloutFromTensorsMatchesArrays() {
        let layer1: [[[Float]]] = [[[1, 0], [0.4, 0.6]], [[0, 1], [0, 1]]]
        let layer2: [[[Float]]] = [[[0, 1], [1, 0]]]
        let tensors = [Tensor(shape: [2, 2, 2], layer1.flatMap { $0.flatMap { $0 } }),
                       Tensor(shape: [1, 1, 2, 2], layer2.flatMap { $0.flatMap { $0 } })]
        XCTAssertEqual(AttentionRollout.rollout(layers: tensors), AttentionRollout.rollout([layer1, layer2]))
    }

    func testPatchMapDropsTheClassToken() {
        let rollout: [[Float]] = (0..<5).map { i in (0..<5).map { j in Float(10 * i + j) } }
        let map = AttentionRollout.patchMap(rollout, rows: 2, columns: 2)
        XCTAssertEqual(map.values, [1, 2, 3, 4])
    }

    func testMontageLaysImagesOutWithCaptions() {
        let red = RGBImage(width: 20, height: 10, background: (255, 0, 0))
        let blue = RGBImage(width: 20, height: 10, background: (0, 0, 255))
        let montage = ImageMontage.sideBySide([red, blue], captions: ["LoRA", "SSF"], spacing: 4, captionScale: 1)
        // Caption row: 4 spacing + 8 glyph rows + 4 spacing.
        XCTAssertEqual(montage.width, 4 + 23 + 4 + 20 + 4)   // "LoRA" (23 px) is wider than its image
        XCTAssertEqual(montage.height, 4 + 12 + 10 + 4)
        XCTAssertEqual(montage.color(x: 5 + 5, y: 16 + 5), RGBColor(red: 255, green: 0, blue: 0))
        XCTAssertTrue((0..<montage.width).contains { montage.color(x: $0, y: 6) == .black }, "captions drawn")
    }
}
