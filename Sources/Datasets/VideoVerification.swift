import Foundation

/// Checks a video dataset video by video: each opens (a file FFmpeg can read, or a frame folder),
/// has frames, and decodes at every frame its test views read — the first, last and spread-out
/// frames a clip takes, so a truncated or corrupt stream shows — and every class has training
/// videos. Labels were checked when the split lists were read.
public struct VideoVerification: Sendable {
    /// Distinct videos (a video in both splits is checked once).
    public let videosChecked: Int
    /// Frames per video over the videos that opened: (fewest, most, mean).
    public let frameCounts: (min: Int, max: Int, mean: Double)?
    /// Videos shorter than one clip's span (sampling repeats frames for them, as VideoMAE does).
    public let shortVideos: Int
    /// Training videos per class.
    public let trainingVideosPerClass: [Int]
    /// One line per problem, naming the file.
    public let problems: [String]

    public static func verify(_ splits: VideoDatasetSplits) -> VideoVerification {
        var counts: [Int] = [], problems: [String] = [], short = 0
        var perClass = [Int](repeating: 0, count: splits.classCount)
        for sample in splits.train { perClass[sample.label] += 1 }
        let span = splits.sampling.framesSpanned
        var seen = Set<String>()
        for sample in splits.train + splits.test where seen.insert(sample.path).inserted {
            do {
                let video = try splits.frames(of: sample)
                guard video.frameCount > 0 else {
                    problems.append("\(video.source): no frames")
                    continue
                }
                let views = splits.testViews.temporalClips
                let indices = Set((0..<views).flatMap { splits.sampling.testIndices(frameCount: video.frameCount, clip: $0, of: views) } + [0, video.frameCount - 1])
                _ = try video.frames(at: indices.sorted())
                counts.append(video.frameCount)
                if video.frameCount < span { short += 1 }
            } catch {
                problems.append("\(error)")
            }
        }
        for (label, count) in perClass.enumerated() where count == 0 {
            problems.append("class \(label) (\(splits.classNames[label])) has no training video")
        }
        let summary = counts.isEmpty ? nil : (counts.min()!, counts.max()!, Double(counts.reduce(0, +)) / Double(counts.count))
        return VideoVerification(videosChecked: seen.count, frameCounts: summary, shortVideos: short,
                                 trainingVideosPerClass: perClass, problems: problems)
    }
}
