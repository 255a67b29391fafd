import Foundation

/// A video classification dataset as its layout reader found it: class names (index = label),
/// training and test samples whose paths are relative to `root` (a video file or a folder of
/// frames), and how its clips are sampled and viewed at test time.
public struct VideoDatasetSplits: Sendable {
    public let root: URL
    public let classNames: [String]
    public let train: [LabeledSample]
    public let test: [LabeledSample]
    public let sampling: VideoFrameSampling
    public let testViews: VideoTestViews

    public init(root: URL, classNames: [String], train: [LabeledSample], test: [LabeledSample],
                sampling: VideoFrameSampling, testViews: VideoTestViews) {
        self.root = root
        self.classNames = classNames
        self.train = train
        self.test = test
        self.sampling = sampling
        self.testViews = testViews
    }

    public var classCount: Int { classNames.count }

    /// The frames of `sample` (decoded from its file, or read from its frame folder).
    public func frames(of sample: LabeledSample) throws -> VideoFrameSource {
        try VideoFrames.open(root.appendingPathComponent(sample.path))
    }
}
