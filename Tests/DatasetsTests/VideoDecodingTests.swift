import Datasets
import Foundation
import Tensor
import XCTest

/// The FFmpeg-backed `VideoDecoder` against the frames PyAV decodes from the same tiny clips
/// (scripts/reference/make_video_fixtures.py): H.264 with B-frames in MP4, VP9 in WebM (no
/// stored frame count), MPEG-4 Part 2 in AVI, each 10 frames of 32×24 with a keyframe every 4.
final class VideoDecodingTests: XCTestCase {
    static let clips = ["h264.mp4", "vp9.webm", "mpeg4.avi"]
    /// PyAV bundles another FFmpeg version than Debian's; decoders are bit-exact, and the RGB
    /// conversion agreed exactly when this was written — a level of slack covers swscale updates.
    static let tolerance = 1

    private func expectedFrames(_ clip: String) throws -> [RGB8Image] {
        let file = try SafeTensors.read(DataFixtures.url("videos/videos.safetensors"))
        let frames = try XCTUnwrap(file.tensors["\(clip).frames"])
        let (t, h, w) = (frames.shape[0], frames.shape[1], frames.shape[2])
        let values = frames.scalars.map { UInt8($0) }
        return (0..<t).map { RGB8Image(width: w, height: h, pixels: Array(values[($0 * h * w * 3)..<(($0 + 1) * h * w * 3)])) }
    }

    func testStreamPropertiesAndEveryFrame() throws {
        for clip in Self.clips {
            let video = try VideoDecoder(contentsOf: DataFixtures.url("videos/\(clip)"))
            XCTAssertEqual(video.frameCount, 10, clip)
            XCTAssertEqual(video.width, 32, clip)
            XCTAssertEqual(video.height, 24, clip)
            XCTAssertEqual(try XCTUnwrap(video.framesPerSecond, clip), 25, accuracy: 1e-9, clip)
            let expected = try expectedFrames(clip)
            let frames = try video.frames(at: Array(0..<10))
            for (i, frame) in frames.enumerated() {
                assertImagesClose(frame, expected[i], tolerance: Self.tolerance, "\(clip) frame \(i)")
            }
        }
    }

    /// Out of order, repeated, across keyframes, and backwards on the same decoder: each frame is
    /// the one at its presentation index (B-frames cannot shift it).
    func testSparseFramesInAnyOrder() throws {
        for clip in Self.clips {
            let video = try VideoDecoder(contentsOf: DataFixtures.url("videos/\(clip)"))
            let expected = try expectedFrames(clip)
            for request in [[7, 2, 2, 9], [9], [0], [5, 6], [3, 8, 1], [4]] {
                let frames = try video.frames(at: request)
                XCTAssertEqual(frames.count, request.count)
                for (frame, index) in zip(frames, request) {
                    assertImagesClose(frame, expected[index], tolerance: Self.tolerance, "\(clip) frame \(index) of \(request)")
                }
            }
        }
    }

    func testBadRequestsAndFilesNameTheFile() throws {
        let video = try VideoDecoder(contentsOf: DataFixtures.url("videos/vp9.webm"))
        expectDatasetError({ _ = try video.frames(at: [10]) }, file: "vp9.webm", mentions: ["frame 10", "10 frames"])
        expectDatasetError({ _ = try VideoDecoder(data: Data("not a video at all".utf8), source: "notes.mp4") },
                           file: "notes.mp4", mentions: ["not a readable"])
        let imageName = try FileManager.default.contentsOfDirectory(atPath: DataFixtures.url("images").path).sorted()[0]
        let png = try Data(contentsOf: DataFixtures.url("images/\(imageName)"))
        expectDatasetError({ _ = try VideoDecoder(data: png, source: "still.avi") }, file: "still.avi", mentions: [])
        expectDatasetError({ _ = try VideoDecoder(contentsOf: URL(fileURLWithPath: "/nonexistent/clip.webm")) },
                           file: "clip.webm", mentions: ["cannot read"])
    }

    /// A clip cut short either opens with fewer frames or fails naming the file; the frames it
    /// returns are still the right ones.
    func testTruncatedClips() throws {
        for clip in Self.clips {
            let data = try Data(contentsOf: DataFixtures.url("videos/\(clip)"))
            let expected = try expectedFrames(clip)
            for fraction in [0.3, 0.6, 0.9] {
                let cut = data.prefix(Int(Double(data.count) * fraction))
                do {
                    let video = try VideoDecoder(data: cut, source: "cut-\(clip)")
                    XCTAssertLessThanOrEqual(video.frameCount, 10)
                    if let frame = try? video.frames(at: [0]).first {
                        assertImagesClose(frame, expected[0], tolerance: Self.tolerance, "\(clip) cut at \(fraction)")
                    }
                } catch let error as DatasetError {
                    XCTAssertEqual(error.file, "cut-\(clip)")
                }
            }
        }
    }
}
