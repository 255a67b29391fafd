import CFFmpeg
import Foundation

/// Decodes MP4, WebM/Matroska and AVI videos through Debian's FFmpeg libraries (libavformat,
/// libavcodec, libswscale) to `RGB8Image` frames, decoding only the frames a clip asks for.
///
/// Opening reads the whole container's packet index (demuxing without decoding, which is cheap):
/// that gives the exact frame count even where the container stores none (WebM), and each
/// frame's presentation timestamp and keyframe flag. `frames(at:)` then seeks to the last
/// keyframe before each wanted frame when that skips decoding, and maps decoded frames to their
/// index by timestamp, so B-frame reordering cannot shift a clip. Frame i is the i-th frame in
/// presentation order, as decord (VideoMAE's reader) and PyAV number them. Streams whose
/// timestamps are missing or repeated, or whose decoded frames carry timestamps no packet has
/// (some packed-bitstream AVIs), are decoded from the start and counted instead.
///
/// Every failure — a file that is not a video, a damaged or truncated stream, a frame that never
/// decodes, an absurd size — is a `DatasetError` naming the file; nothing traps.
public final class VideoDecoder {
    public let source: String
    /// Frames in the video stream: its non-empty packets, one frame each for the codecs read
    /// here. (decord also counts empty packets, which some AVI writers leave for dropped frames.)
    public let frameCount: Int
    /// The stream's frame rate, when the container states one.
    public let framesPerSecond: Double?
    public let width: Int
    public let height: Int

    /// Demuxers accepted (FFmpeg's names). Without this list a mutated file could be probed as a
    /// playlist format (HLS, concat) that opens other files or URLs named inside it.
    static let containerWhitelist = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"

    private let input: FFmpegMemoryInput
    private var stream: FFmpegStream
    /// Presentation timestamps in presentation order (nil: the stream is decoded by counting).
    private let timestamps: [Int64]?
    /// Set once the decoded frames' timestamps disagree with the packets': count from then on.
    private var countsFrames: Bool
    private let indexOfTimestamp: [Int64: Int]
    /// Presentation indices of keyframes, ascending.
    private let keyframes: [Int]

    public init(data: Data, source: String) throws {
        self.source = source
        input = FFmpegMemoryInput(data)
        stream = try FFmpegStream(input: input, source: source)
        width = stream.width
        height = stream.height
        framesPerSecond = stream.framesPerSecond

        let packets = try stream.readPacketIndex()
        guard !packets.isEmpty else { throw DatasetError(file: source, "the video stream has no frames") }
        frameCount = packets.count
        let stamps = packets.map(\.timestamp)
        let sorted = stamps.sorted()
        if stamps.allSatisfy({ $0 != cffmpeg_no_pts() }), zip(sorted, sorted.dropFirst()).allSatisfy({ $0 < $1 }) {
            let index = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
            timestamps = sorted
            indexOfTimestamp = index
            keyframes = packets.filter(\.isKeyframe).compactMap { index[$0.timestamp] }.sorted()
            countsFrames = false
        } else {
            countsFrames = true
            timestamps = nil
            indexOfTimestamp = [:]
            keyframes = []
        }
        stream = try FFmpegStream(input: input, source: source)
    }

    /// Reads and opens the video at `url`; errors name its path.
    public convenience init(contentsOf url: URL) throws {
        try self.init(data: try ImageDecoder.readFile(url), source: url.path)
    }

    /// The frames at `indices` (presentation order, repeats allowed), in the order asked.
    public func frames(at indices: [Int]) throws -> [RGB8Image] {
        for index in indices where !(0..<frameCount).contains(index) {
            throw DatasetError(file: source, "frame \(index) requested; the video has \(frameCount) frames")
        }
        var decoded: [Int: RGB8Image] = [:]
        if !countsFrames {
            do {
                try decodeBySeeking(Set(indices).sorted(), into: &decoded)
            } catch is TimestampMismatch {
                countsFrames = true
                decoded = [:]
            }
        }
        if countsFrames { try decodeByCounting(Set(indices), into: &decoded) }
        return try indices.map { index in
            guard let image = decoded[index] else {
                throw DatasetError(file: source, "frame \(index) of \(frameCount) could not be decoded (damaged or truncated stream)")
            }
            return image
        }
    }

    /// Decoded frames whose timestamps the packet index does not explain.
    private struct TimestampMismatch: Error {}

    /// Decodes forward, seeking to the last keyframe at or before the next target whenever that
    /// keyframe lies beyond the frames already decoded, or the target lies behind them (back to
    /// the start when no keyframe is flagged before it).
    private func decodeBySeeking(_ targets: [Int], into decoded: inout [Int: RGB8Image]) throws {
        var last = stream.lastDecodedIndex
        for target in targets where decoded[target] == nil {
            let behind = last.map { target <= $0 } ?? false
            if let key = keyframes.last(where: { $0 <= target }), behind || last.map({ key > $0 }) ?? true {
                try stream.seek(to: timestamps![key])
                last = nil
            } else if behind {
                stream = try FFmpegStream(input: input, source: source)
                last = nil
            }
            while true {
                guard let frame = try stream.nextFrame() else { return }
                guard let index = indexOfTimestamp[frame.pointee.best_effort_timestamp] else { throw TimestampMismatch() }
                if let previous = last, index <= previous { throw TimestampMismatch() }
                last = index
                stream.lastDecodedIndex = index
                if targets.contains(index) { decoded[index] = try stream.convert(frame, expectedWidth: width, expectedHeight: height) }
                // Past the target without it (a damaged frame): the caller reports it missing.
                if index >= target { break }
            }
        }
    }

    /// Decodes from the start, numbering frames as they come out.
    private func decodeByCounting(_ targets: Set<Int>, into decoded: inout [Int: RGB8Image]) throws {
        stream = try FFmpegStream(input: input, source: source)
        let lastTarget = targets.max() ?? -1
        var index = 0
        while index <= lastTarget, let frame = try stream.nextFrame() {
            if targets.contains(index) { decoded[index] = try stream.convert(frame, expectedWidth: width, expectedHeight: height) }
            index += 1
        }
    }
}
