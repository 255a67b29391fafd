import Tensor

/// Which frames of a video make one clip, as VideoMAE's released loaders choose them
/// (MCG-NJU/VideoMAE `ssv2.py` and `kinetics.py`, read from the code; index arithmetic kept
/// exactly, including numpy's `linspace` and truncating `astype(int64)`).
public enum VideoFrameSampling: Codable, Equatable, Sendable {
    /// Something-Something-V2 (TSN-style, `SSVideoClsDataset`): the video is cut into `count`
    /// equal segments and one frame is taken from each, so a clip always spans the whole video —
    /// SSv2's actions are defined by their order, not by any single stretch.
    case segments(count: Int)
    /// Kinetics, UCF101, HMDB51 (`VideoClsDataset`, one segment): `frames` frames `stride` apart
    /// from one stretch of the video.
    case dense(frames: Int, stride: Int)

    /// Frames in one clip (the model's `num_frames`).
    public var framesPerClip: Int {
        switch self {
        case .segments(let count): return count
        case .dense(let frames, _): return frames
        }
    }

    /// Frames one clip reaches over: a video shorter than this repeats frames in its clips.
    public var framesSpanned: Int {
        switch self {
        case .segments(let count): return count
        case .dense(let frames, let stride): return frames * stride
        }
    }

    /// A training clip, random as VideoMAE draws it: one random frame per segment; or a random
    /// end point with the clip spread evenly up to it (videos shorter than the clip's span are
    /// spread over their whole length and padded with their last frame).
    public func trainingIndices(frameCount n: Int, rng: inout SeededRandom) -> [Int] {
        precondition(n > 0, "a video has at least one frame")
        switch self {
        case .segments(let count):
            let average = n / count
            if average > 0 { return (0..<count).map { $0 * average + rng.nextInt(average) } }
            if n > count { return (0..<count).map { _ in rng.nextInt(n) }.sorted() }
            return [Int](repeating: 0, count: count)
        case .dense(let frames, let stride):
            let span = frames * stride
            if n <= span { return Self.shortVideoIndices(frameCount: n, frames: frames, stride: stride) }
            let end = span + rng.nextInt(n - span)
            return Self.spread(from: end - span, to: end, frames: frames)
        }
    }

    /// Temporal view `clip` of `clips` at test time (`test_num_segment` views). Segments: frame
    /// `⌊tick·(x + clip/clips)⌋` of segment x, tick = n / count — for VideoMAE's two SSv2 views
    /// the segment starts and the segment middles. Dense: the every-`stride`-th frames of the
    /// whole video (padded with the last), and `frames` of them starting at
    /// `⌊clip · max((len − frames) / (clips − 1), 0)⌋`; a single view starts at the first frame.
    public func testIndices(frameCount n: Int, clip: Int, of clips: Int) -> [Int] {
        precondition(n > 0 && clips > 0 && (0..<clips).contains(clip), "test view \(clip) of \(clips) for \(n) frames")
        switch self {
        case .segments(let count):
            let tick = Double(n) / Double(count)
            return (0..<count).map { min(n - 1, Int(Double(clip) * tick / Double(clips) + tick * Double($0))) }
        case .dense(let frames, let stride):
            var strided = Array(Swift.stride(from: 0, to: n, by: stride))
            while strided.count < frames { strided.append(strided.last!) }
            let step = clips > 1 ? max(Double(strided.count - frames) / Double(clips - 1), 0) : 0
            let start = Int(Double(clip) * step)
            return Array(strided[start..<(start + frames)])
        }
    }

    /// `numpy.linspace(start, end, frames)` clipped to [start, end − 1] and truncated.
    static func spread(from start: Int, to end: Int, frames: Int) -> [Int] {
        Self.linspace(Double(start), Double(end), count: frames).map { min(max(Int($0), start), end - 1) }
    }

    /// VideoMAE's padding for a video no longer than the clip's span: `n // stride` frames spread
    /// over [0, n], the rest at n, all clipped to n − 1.
    static func shortVideoIndices(frameCount n: Int, frames: Int, stride: Int) -> [Int] {
        let spread = Self.linspace(0, Double(n), count: n / stride)
        let padded = spread + [Double](repeating: Double(n), count: max(0, frames - spread.count))
        return padded.map { min(max(Int($0), 0), n - 1) }
    }

    /// numpy's `linspace` with its arithmetic: `i · (stop − start)/(count − 1) + start`, the last
    /// value exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }
}
