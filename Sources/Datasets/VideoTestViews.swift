/// Multi-view testing: every video is scored on `temporalClips × spatialCrops` views and the
/// views' softmax probabilities are averaged (VideoMAE's `merge`). Counts are VideoMAE's released fine-tuning settings
/// (`--test_num_segment`, `--test_num_crop`).
public struct VideoTestViews: Codable, Equatable, Sendable {
    public var temporalClips: Int
    public var spatialCrops: Int

    public init(temporalClips: Int, spatialCrops: Int) {
        precondition(temporalClips > 0 && spatialCrops > 0, "test views: \(temporalClips) clips × \(spatialCrops) crops")
        self.temporalClips = temporalClips
        self.spatialCrops = spatialCrops
    }

    /// Something-Something-V2: 2 clips (segment starts, segment middles) × 3 crops.
    public static let somethingSomethingV2 = VideoTestViews(temporalClips: 2, spatialCrops: 3)
    /// Kinetics, UCF101 and HMDB51: 5 clips × 3 crops.
    public static let kineticsStyle = VideoTestViews(temporalClips: 5, spatialCrops: 3)

    public var count: Int { temporalClips * spatialCrops }

    /// Every view as (temporal clip, spatial crop), clip-major as VideoMAE enumerates them.
    public var views: [(clip: Int, crop: Int)] {
        (0..<temporalClips).flatMap { clip in (0..<spatialCrops).map { (clip, $0) } }
    }

    /// Where crop `crop` starts along the frame's longer side, once the shorter side has been
    /// resized to `size`: evenly from one end to the other (left/centre/right or top/centre/
    /// bottom for three crops), `⌊crop · (long − size)/(crops − 1)⌋` as VideoMAE computes it; a
    /// single crop is centred.
    public func cropOffset(longSide: Int, size: Int, crop: Int) -> Int {
        precondition((0..<spatialCrops).contains(crop) && longSide >= size, "crop \(crop) of \(spatialCrops), side \(longSide) < \(size)")
        guard spatialCrops > 1 else { return (longSide - size) / 2 }
        return Int(Double(crop) * Double(longSide - size) / Double(spatialCrops - 1))
    }
}
