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
        let plane = 3 * size * size
        let clip = Tensor(uninitializedShape: [frames.count, 3, size, size])
        for (t, frame) in frames.enumerated() {
            let resized = frame.resized(shorterSide: size, interpolation: .bilinear)
            let offset = views.cropOffset(longSide: max(resized.width, resized.height), size: size, crop: crop)
            let box = resized.width >= resized.height
                ? TorchvisionGeometry.Box(left: offset, top: 0, width: size, height: size)
                : TorchvisionGeometry.Box(left: 0, top: offset, width: size, height: size)
            packer.write(resized.cropped(to: box), to: clip.data + t * plane)
        }
        return clip
    }

    /// Every test view of a video, clip-major as `VideoTestViews.views`: [views, T, 3, S, S].
    /// Each frame is decoded once, however many views use it.
    public func testViews(of video: VideoFrameSource, sampling: VideoFrameSampling) throws -> Tensor {
        let clips = (0..<views.temporalClips).map { sampling.testIndices(frameCount: video.frameCount, clip: $0, of: views.temporalClips) }
        let wanted = Array(Set(clips.joined())).sorted()
        let decoded = Dictionary(uniqueKeysWithValues: zip(wanted, try video.frames(at: wanted)))
        let tensors = views.views.map { view in tensor(clips[view.clip].map { decoded[$0]! }, crop: view.crop) }
        return stack(tensors)
    }

    private func stack(_ tensors: [Tensor]) -> Tensor {
        let out = Tensor(uninitializedShape: [tensors.count] + tensors[0].shape)
        for (i, t) in tensors.enumerated() { (out.data + i * t.count).update(from: t.data, count: t.count) }
        return out
    }
}
