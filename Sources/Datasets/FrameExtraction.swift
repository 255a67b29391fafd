import Foundation

/// Writes a video's frames as a rawframe folder (`img_00001.jpg`, `img_00002.jpg`, …: the layout
/// `RawFrameFolder` reads and many video datasets are kept in), optionally every `step`-th frame
/// from `start` and shrunk so the shorter side is `shortSide` pixels. Decoding is `VideoDecoder`'s,
/// a few frames at a time, so a long HD video never sits in memory whole.
public struct FrameExtraction: Sendable {
    /// First frame (0-based, presentation order).
    public var start = 0
    /// Frames to write; nil: every `step`-th frame up to the end of the video.
    public var count: Int?
    public var step = 1
    /// The shorter side after resizing (PIL's antialiased bilinear, aspect ratio kept as
    /// torchvision's `Resize(int)` keeps it); nil keeps the video's size.
    public var shortSide: Int?
    public var quality = 95

    public init(start: Int = 0, count: Int? = nil, step: Int = 1, shortSide: Int? = nil, quality: Int = 95) {
        (self.start, self.count, self.step, self.shortSide, self.quality) = (start, count, step, shortSide, quality)
    }

    /// Frames decoded per batch: bounds memory at HD sizes (32 × 1280×720×3 bytes ≈ 88 MB).
    static let framesPerBatch = 32

    /// The presentation indices this extraction writes from a video of `frameCount` frames;
    /// errors name `source`.
    public func frameIndices(frameCount: Int, source: String) throws -> [Int] {
        guard step >= 1 else { throw DatasetError(file: source, "step \(step) must be at least 1") }
        guard (0..<frameCount).contains(start) else {
            throw DatasetError(file: source, "start frame \(start) is outside the video's \(frameCount) frames (0…\(frameCount - 1))")
        }
        let available = (frameCount - 1 - start) / step + 1
        let wanted = count ?? available
        guard wanted >= 1 else { throw DatasetError(file: source, "count \(wanted) must be at least 1") }
        guard wanted <= available else {
            throw DatasetError(file: source, "\(wanted) frames from frame \(start) with step \(step) need \(start + (wanted - 1) * step + 1) frames; the video has \(frameCount)")
        }
        return (0..<wanted).map { start + $0 * step }
    }

    /// Decodes `video` and writes the frames into `folder` (created if missing; it must not
    /// already hold `img_` frames, which would mix two extractions into one clip). Returns the
    /// number of frames written.
    @discardableResult
    public func run(video: URL, to folder: URL) throws -> Int {
        if let shortSide, shortSide < 1 { throw DatasetError(file: video.path, "short side \(shortSide) must be at least 1 pixel") }
        guard (1...100).contains(quality) else { throw DatasetError(file: video.path, "JPEG quality \(quality) is not in 1…100") }
        let decoder = try VideoDecoder(contentsOf: video)
        let indices = try frameIndices(frameCount: decoder.frameCount, source: video.path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        if let frame = existing.first(where: { $0.hasPrefix(RawFrameFolder.defaultPrefix) }) {
            throw DatasetError(file: folder.path, "already holds frames ('\(frame)'); extract into an empty folder")
        }
        var written = 0
        for batchStart in stride(from: 0, to: indices.count, by: Self.framesPerBatch) {
            let batch = Array(indices[batchStart..<min(batchStart + Self.framesPerBatch, indices.count)])
            for frame in try decoder.frames(at: batch) {
                let image = shortSide.map { frame.resized(shorterSide: $0, interpolation: .bilinear) } ?? frame
                written += 1
                let name = RawFrameFolder.defaultPrefix + String(format: "%05d", written) + ".jpg"
                try FileOutput.write(try JPEGEncoder.encode(image, quality: quality), to: folder.appendingPathComponent(name))
            }
        }
        return written
    }
}
