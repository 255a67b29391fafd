import Tensor

/// A clip's frames as the input a video model takes: each frame's shorter side resized to `size`,
/// cropped to size × size along its longer side where spatial crop `crop` of the test views
/// starts (`VideoTestViews.cropOffset`), then `ToTensor` + `Normalize`, stacked [T, 3, S, S] —
/// the per-sample layout of Hugging Face's [B, T, C, H, W]. VideoMAE's test pipeline, except the
/// resampling: VideoMAE resizes decord's arrays with OpenCV's bilinear (no antialiasing), this
/// uses PIL's bilinear (antialiased when shrinking), the project's exact resampler.
public struct VideoClipPacker: Sendable {
    public let size: Int
    public let views: VideoTestViews
    public let packer: TensorPacker

    public init(size: Int, views: VideoTestViews, normalization: PixelNormalization = .imagenet) {
        precondition(size > 0, "clip size \(size) must be positive")
        self.size = size
        self.views = views
        packer = TensorPacker(normalization: normalization)
    }

    /// One view of `frames`: [T, 3, size, size].
    public func tensor(_ frames: [RGB8Image], crop: Int) -> Tensor {
        precondition(!frames.isEmpty, "a clip has at least one frame")
        let clip = Tensor(uninitializedShape: [frames.count, 3, size, size])
        write(frames.map { $0.resized(shorterSide: size, interpolation: .bilinear) }, crop: crop, to: clip.data)
        return clip
    }

    /// Every test view of a video, clip-major as `VideoTestViews.views`: [views, T, 3, S, S].
    /// Each frame is decoded and resized once, however many views use it.
    public func testViews(of video: VideoFrameSource, sampling: VideoFrameSampling) throws -> Tensor {
        let clips = (0..<views.temporalClips).map { sampling.testIndices(frameCount: video.frameCount, clip: $0, of: views.temporalClips) }
        let wanted = Array(Set(clips.joined())).sorted()
        let resized = Dictionary(uniqueKeysWithValues: zip(wanted, try video.frames(at: wanted).map { $0.resized(shorterSide: size, interpolation: .bilinear) }))
        let out = Tensor(uninitializedShape: [views.count, clips[0].count, 3, size, size])
        let perView = clips[0].count * 3 * size * size
        for (i, view) in views.views.enumerated() {
            write(clips[view.clip].map { resized[$0]! }, crop: view.crop, to: out.data + i * perView)
        }
        return out
    }

    /// Crops frames whose shorter side is already `size` where crop `crop` starts and writes them,
    /// normalised, one after the other at `out`.
    private func write(_ resized: [RGB8Image], crop: Int, to out: UnsafeMutablePointer<Float>) {
        let plane = 3 * size * size
        for (t, frame) in resized.enumerated() {
            let offset = views.cropOffset(longSide: max(frame.width, frame.height), size: size, crop: crop)
            let box = frame.width >= frame.height
                ? TorchvisionGeometry.Box(left: offset, top: 0, width: size, height: size)
                : TorchvisionGeometry.Box(left: 0, top: offset, width: size, height: size)
            packer.write(frame.cropped(to: box), to: out + t * plane)
        }
    }
}
