import Foundation

/// Any video dataset given as two list files of `<path> <label>` (or `<path>,<label>`) lines,
/// paths relative to `root` naming video files or frame folders — the form of VideoMAE's and
/// V-PETL's `train.csv`/`test.csv`. Read by `SplitListParser`, so bad lines name file and line.
public enum VideoListDataset {
    public static func load(root: URL, trainList: URL, testList: URL, classCount: Int,
                            sampling: VideoFrameSampling, testViews: VideoTestViews) throws -> VideoDatasetSplits {
        VideoDatasetSplits(root: root, classNames: (0..<classCount).map { "class \($0)" },
                           train: try SplitListParser.parse(trainList, classCount: classCount),
                           test: try SplitListParser.parse(testList, classCount: classCount),
                           sampling: sampling, testViews: testViews)
    }
}
