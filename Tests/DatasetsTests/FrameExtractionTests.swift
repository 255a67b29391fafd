import Datasets
import Foundation
import XCTest

/// `FrameExtraction` (`vpeft data extract-frames`) on the fixture videos: the rawframe folder it
/// writes reads back through `RawFrameFolder` as the frames `VideoDecoder` gives at the picked
/// indices, up to JPEG's loss.
final class FrameExtractionTests: XCTestCase {
    /// Mean absolute difference per channel value. JPEG (quality 95, 4:2:0 chroma) costs these
    /// tiny, saturated 32×24 clips about 3.3 levels; two different frames of a clip differ by
    /// more (checked below), so the tolerance still tells frames apart.
    private func meanDifference(_ a: RGB8Image, _ b: RGB8Image) -> Double {
        precondition(a.width == b.width && a.height == b.height)
        return Double(zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.pixels.count)
    }

    func testPickedFramesReadBackInOrderFromEveryContainer() throws {
        for clip in ["h264.mp4", "vp9.webm", "mpeg4.avi"] {
            let video = DataFixtures.url("videos/\(clip)")
            let folder = try temporaryDirectory(self).appendingPathComponent("frames")
            let written = try FrameExtraction(start: 1, count: 4, step: 2).run(video: video, to: folder)
            XCTAssertEqual(written, 4, clip)
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            XCTAssertEqual(names, ["img_00001.jpg", "img_00002.jpg", "img_00003.jpg", "img_00004.jpg"], clip)
            let frames = try RawFrameFolder(folder)
            XCTAssertEqual(frames.frameCount, 4, clip)
            let expected = try VideoDecoder(contentsOf: video).frames(at: Array(0..<10))
            for (i, frame) in try frames.frames(at: [0, 1, 2, 3]).enumerated() {
                let own = meanDifference(frame, expected[1 + 2 * i])
                XCTAssertLessThan(own, 4.5, "\(clip) frame \(i)")
                // The right frame, not a neighbour: every other source frame is further away.
                for other in 0..<10 where other != 1 + 2 * i {
                    XCTAssertLessThan(own, meanDifference(frame, expected[other]), "\(clip) frame \(i) vs source frame \(other)")
                }
            }
        }
    }

    func testDefaultsRunToTheEndAndShortSideKeepsTheAspectRatio() throws {
        let folder = try temporaryDirectory(self).appendingPathComponent("frames")
        let written = try FrameExtraction(step: 3, shortSide: 12).run(video: DataFixtures.url("videos/h264.mp4"), to: folder)
        XCTAssertEqual(written, 4)  // frames 0, 3, 6, 9 of 10
        let frame = try RawFrameFolder(folder).frames(at: [3])[0]
        XCTAssertEqual([frame.width, frame.height], [16, 12])  // 32×24 → shorter side 12
        let source = try VideoDecoder(contentsOf: DataFixtures.url("videos/h264.mp4")).frames(at: [9])[0]
        XCTAssertLessThan(meanDifference(frame, source.resized(shorterSide: 12, interpolation: .bilinear)), 6)
    }

    func testBadRequestsNameTheFile() throws {
        let video = DataFixtures.url("videos/vp9.webm")
        let folder = try temporaryDirectory(self)
        expectDatasetError({ try FrameExtraction(start: 10).run(video: video, to: folder.appendingPathComponent("a")) },
                           file: "vp9.webm", mentions: ["start frame 10", "10 frames"])
        expectDatasetError({ try FrameExtraction(start: 2, count: 5, step: 2).run(video: video, to: folder.appendingPathComponent("b")) },
                           file: "vp9.webm", mentions: ["5 frames", "need 11", "has 10"])
        expectDatasetError({ try FrameExtraction(step: 0).run(video: video, to: folder.appendingPathComponent("c")) },
                           file: "vp9.webm", mentions: ["step 0"])
        expectDatasetError({ try FrameExtraction(shortSide: 0).run(video: video, to: folder.appendingPathComponent("d")) },
                           file: "vp9.webm", mentions: ["short side 0"])
        expectDatasetError({ try FrameExtraction().run(video: folder.appendingPathComponent("missing.mp4"), to: folder.appendingPathComponent("e")) },
                           file: "missing.mp4", mentions: [])
        // A second extraction into the same folder would interleave two clips' frames.
        let used = folder.appendingPathComponent("used")
        try FrameExtraction(count: 2).run(video: video, to: used)
        expectDatasetError({ try FrameExtraction(count: 2).run(video: video, to: used) }, file: "used", mentions: ["already holds frames", "img_00001.jpg"])
    }

    func testJPEGEncoderRoundTripsAndRejectsABadQuality() throws {
        var pixels = [UInt8](repeating: 0, count: 40 * 30 * 3)
        for y in 0..<30 { for x in 0..<40 { for c in 0..<3 { pixels[(y * 40 + x) * 3 + c] = UInt8(x * 4 + y * 2 + c * 20) } } }
        let image = RGB8Image(width: 40, height: 30, pixels: pixels)
        let decoded = try ImageDecoder.decode(try JPEGEncoder.encode(image, quality: 95), source: "roundtrip.jpg")
        XCTAssertEqual([decoded.width, decoded.height], [40, 30])
        XCTAssertLessThan(meanDifference(decoded, image), 1.5)  // a smooth gradient survives almost intact
        XCTAssertGreaterThan(meanDifference(decoded, RGB8Image(width: 40, height: 30, fill: (128, 128, 128))), 20)
        expectDatasetError({ _ = try JPEGEncoder.encode(image, quality: 0) }, file: "<jpeg encoder>", mentions: ["quality 0"])
    }
}
