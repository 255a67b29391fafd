import Datasets
import Tensor
import XCTest

/// Clip indices against VideoMAE's released loaders, the expected lists computed by running
/// their code (`ssv2.py`, `kinetics.py` index arithmetic with numpy) on the same frame counts.
final class VideoSamplingTests: XCTestCase {
    func testSomethingSomethingTestViewsAreSegmentStartsAndMiddles() {
        let sampling = VideoFrameSampling.segments(count: 16)
        XCTAssertEqual(sampling.testIndices(frameCount: 50, clip: 0, of: 2), [0, 3, 6, 9, 12, 15, 18, 21, 25, 28, 31, 34, 37, 40, 43, 46])
        XCTAssertEqual(sampling.testIndices(frameCount: 50, clip: 1, of: 2), [1, 4, 7, 10, 14, 17, 20, 23, 26, 29, 32, 35, 39, 42, 45, 48])
        // Shorter than the clip: frames repeat, as VideoMAE's sorted interleaving gives them.
        XCTAssertEqual(sampling.testIndices(frameCount: 7, clip: 0, of: 2), [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6])
        XCTAssertEqual(sampling.testIndices(frameCount: 7, clip: 1, of: 2), [0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6])
    }

    func testSomethingSomethingTrainingTakesOneFramePerSegment() {
        let sampling = VideoFrameSampling.segments(count: 16)
        var rng = SeededRandom(seed: 1)
        for _ in 0..<50 {
            let indices = sampling.trainingIndices(frameCount: 50, rng: &rng)
            XCTAssertEqual(indices.count, 16)
            for (segment, index) in indices.enumerated() { XCTAssertTrue((segment * 3)..<(segment * 3 + 3) ~= index, "\(indices)") }
            let short = sampling.trainingIndices(frameCount: 10, rng: &rng)
            XCTAssertEqual(short, short.sorted())
            XCTAssertTrue(short.allSatisfy { (0..<10).contains($0) })
        }
        // No more frames than segments: VideoMAE repeats frame 0.
        XCTAssertEqual(sampling.trainingIndices(frameCount: 16, rng: &rng), Array(0..<16))
        XCTAssertEqual(sampling.trainingIndices(frameCount: 5, rng: &rng), [Int](repeating: 0, count: 16))
    }

    func testDenseSamplingMatchesKineticsLoader() {
        let sampling = VideoFrameSampling.dense(frames: 16, stride: 4)
        var rng = SeededRandom(seed: 2)
        // 65 frames: the only end point is 64, so the clip is numpy's linspace(0, 64, 16) clipped.
        XCTAssertEqual(sampling.trainingIndices(frameCount: 65, rng: &rng), [0, 4, 8, 12, 17, 21, 25, 29, 34, 38, 42, 46, 51, 55, 59, 63])
        XCTAssertEqual(sampling.trainingIndices(frameCount: 30, rng: &rng), [0, 5, 10, 15, 20, 25] + [Int](repeating: 29, count: 10))
        XCTAssertEqual(sampling.trainingIndices(frameCount: 3, rng: &rng), [Int](repeating: 2, count: 16))
        for _ in 0..<50 {
            let indices = sampling.trainingIndices(frameCount: 100, rng: &rng)
            XCTAssertEqual(indices.count, 16)
            XCTAssertEqual(indices, indices.sorted())
            XCTAssertTrue(indices.last! - indices.first! >= 59 && indices.last! < 100, "\(indices)")
        }
        let expected = [[0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60], [8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68],
                        [16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76], [24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84],
                        [36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92, 96]]
        for clip in 0..<5 { XCTAssertEqual(sampling.testIndices(frameCount: 100, clip: clip, of: 5), expected[clip], "clip \(clip)") }
        XCTAssertEqual(sampling.testIndices(frameCount: 30, clip: 4, of: 5), [0, 4, 8, 12, 16, 20, 24, 28] + [Int](repeating: 28, count: 8))
    }

    func testViewsAndCrops() {
        let views = VideoTestViews.somethingSomethingV2
        XCTAssertEqual(views.count, 6)
        XCTAssertEqual(views.views.map { "\($0.clip)\($0.crop)" }, ["00", "01", "02", "10", "11", "12"])
        XCTAssertEqual(VideoTestViews.kineticsStyle.count, 15)
        // 224 short side, 298 long: left, centre, right as VideoMAE's int(k · 74 / 2).
        XCTAssertEqual((0..<3).map { views.cropOffset(longSide: 298, size: 224, crop: $0) }, [0, 37, 74])
        XCTAssertEqual(VideoTestViews(temporalClips: 1, spatialCrops: 1).cropOffset(longSide: 300, size: 224, crop: 0), 38)
    }
}
