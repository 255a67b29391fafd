import Datasets
import Tensor
import XCTest

/// Multi-view test clips from a real (fixture) video: shape, view order, crops along the longer
/// side, and the same pixels as resizing, cropping and packing one frame by hand.
final class VideoClipPackerTests: XCTestCase {
    func testEveryViewOfAVideo() throws {
        let video = try VideoDecoder(contentsOf: DataFixtures.url("videos/vp9.webm"))  // 32×24, 10 frames
        let sampling = VideoFrameSampling.segments(count: 4)
        let packer = VideoClipPacker(size: 16, views: .somethingSomethingV2)
        let views = try packer.testViews(of: video, sampling: sampling)
        XCTAssertEqual(views.shape, [6, 4, 3, 16, 16])

        // View 5 = clip 1, crop 2 (the right end of the 21×16 resized frame); its first frame:
        let index = sampling.testIndices(frameCount: 10, clip: 1, of: 2)[0]
        let frame = try video.frames(at: [index])[0].resized(shorterSide: 16, interpolation: .bilinear)
        XCTAssertEqual(frame.width, 21)
        let expected = TensorPacker(normalization: .imagenet).tensor(frame.cropped(to: .init(left: 5, top: 0, width: 16, height: 16)))
        let plane = 3 * 16 * 16
        XCTAssertEqual(Array(views.scalars[(5 * 4 * plane)..<(5 * 4 * plane + plane)]), expected.scalars)
        XCTAssertNotEqual(Array(views.scalars[(3 * 4 * plane)..<(3 * 4 * plane + plane)]), expected.scalars, "crop 0 is another window")
    }
}
