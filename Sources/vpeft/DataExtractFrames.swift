import ArgumentParser
import Datasets
import Foundation

/// `vpeft data extract-frames`: a video file → a rawframe folder (`img_00001.jpg`, …).
struct DataExtractFrames: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-frames",
        abstract: "Write a video's frames as a rawframe folder (img_00001.jpg, img_00002.jpg, …).",
        discussion: """
            The layout the videolist: datasets and mmaction2/VideoMAE frame loaders read. Frames are counted \
            from 0 in presentation order; --start, --count and --step pick frames start, start + step, …; \
            --short-side shrinks each frame (bilinear, antialiased, aspect ratio kept). The folder must not \
            already hold img_ frames.
            """)

    @Argument(help: "The video (MP4, WebM/Matroska, AVI).") var video: String
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(help: "First frame (0-based).") var start = 0
    @Option(help: "Frames to write (default: every step-th frame to the end).") var count: Int?
    @Option(help: "Keep every step-th frame.") var step = 1
    @Option(help: "Resize so the shorter side has this many pixels (default: the video's size).") var shortSide: Int?
    @Option(help: "JPEG quality, 1–100.") var quality = 95

    func run() throws {
        let extraction = FrameExtraction(start: start, count: count, step: step, shortSide: shortSide, quality: quality)
        let written = try extraction.run(video: URL(fileURLWithPath: video), to: URL(fileURLWithPath: out))
        print("wrote \(written) frames to \(out)")
    }
}
