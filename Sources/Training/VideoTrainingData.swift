import Datasets
import Foundation

/// The data of a video run, from its `dataset` reference and config:
///
/// - `ssv2:<folder>`: Something-Something-V2 under `data_root/<folder>` (`labels/` with the
///   three JSON files, `20bn-something-something-v2/<id>.webm`); 16 segments, no flips
///   (its labels say left or right), test views 2 × 3.
/// - `hmdb51:split<k>`: HMDB51 under `data_root` (split files in `testTrainMulti_7030_splits/`,
///   class folders of `.avi`), official split k; dense sampling, test views 5 × 3.
/// - `videolist:<folder>`: `data_root/<folder>/train.txt` and `test.txt` of `<path> <label>`
///   lines (paths relative to the folder) and `classes.txt` (one name per line); dense sampling.
///
/// Clips take `frames` frames (16 unless set; `frame_stride` apart where sampling is dense, 4
/// unless set); `test_views`
/// ("CLIPSxCROPS") overrides the dataset's views. With `train_augmentation`, training clips get
/// VideoMAE's RandAugment (one draw per clip) and random erasing (p 0.25); every training clip
/// gets its random-resized crop (area `clip_crop_scale`, VideoMAE's [0.08, 1] unless set) and
/// flip, where allowed.
public struct VideoTrainingData {
    public static let suites = ["ssv2", "hmdb51", "videolist"]

    public let splits: VideoDatasetSplits
    public let train: VideoBatchSource
    public let eval: VideoBatchSource
    /// The files that identify the data (the lists or annotation files read), for the record.
    public let identifyingFiles: [URL]

    public init(suite: String, name: String, root: URL, config: TrainingConfig, size: Int, normalization: PixelNormalization) throws {
        let (frames, stride) = (config.frames ?? 16, config.frameStride ?? 4)
        let loaded: VideoDatasetSplits
        var flips = true
        switch suite {
        case "ssv2":
            let folder = root.appendingPathComponent(name)
            loaded = try SomethingSomethingV2Dataset.load(root: folder, frames: frames)
            identifyingFiles = ["labels.json", "train.json", "validation.json"].map { folder.appendingPathComponent("labels").appendingPathComponent($0) }
            flips = false
        case "hmdb51":
            guard name.hasPrefix("split"), let split = Int(name.dropFirst(5)) else {
                throw ConfigError("dataset hmdb51:\(name): expected hmdb51:split1, hmdb51:split2 or hmdb51:split3")
            }
            loaded = try HMDB51Dataset.load(root: root, split: split, frames: frames, stride: stride)
            identifyingFiles = []
        case "videolist":
            let folder = root.appendingPathComponent(name)
            let classesFile = folder.appendingPathComponent("classes.txt")
            guard let classNames = DatasetReference.classNames(in: classesFile) else {
                throw ConfigError("\(classesFile.path): missing — a videolist dataset names its classes there, one per line, in label order")
            }
            let lists = (train: folder.appendingPathComponent("train.txt"), test: folder.appendingPathComponent("test.txt"))
            loaded = VideoDatasetSplits(root: folder, classNames: classNames,
                                        train: try SplitListParser.parse(lists.train, classCount: classNames.count),
                                        test: try SplitListParser.parse(lists.test, classCount: classNames.count),
                                        sampling: .dense(frames: frames, stride: stride), testViews: .kineticsStyle)
            identifyingFiles = [classesFile, lists.train, lists.test]
        default:
            throw ConfigError("dataset \(suite):\(name): not a video suite (\(Self.suites.joined(separator: ", ")))")
        }
        let views = try config.testViews.map(Self.parseViews) ?? loaded.testViews
        splits = VideoDatasetSplits(root: loaded.root, classNames: loaded.classNames, train: loaded.train, test: loaded.test,
                                    sampling: loaded.sampling, testViews: views)
        guard !splits.train.isEmpty, !splits.test.isEmpty else {
            throw ConfigError("dataset \(suite):\(name): the training split has \(splits.train.count) videos and the test split \(splits.test.count); both need some")
        }
        let reader = VideoClipReader(splits: splits, size: size, flips: flips, seed: config.seed,
                                     randAugment: config.trainAugmentation ? VideoClipReader.videoMAERandAugment : nil,
                                     erasing: config.trainAugmentation ? .videoMAE : nil, normalization: normalization,
                                     cropScale: config.clipCropScale.map { $0[0]...$0[1] } ?? 0.08...1)
        train = VideoBatchSource(reader: reader, batchSize: config.batchSize)
        eval = VideoBatchSource(reader: reader, batchSize: config.batchSize, test: true)
    }

    /// "5x3" → 5 temporal clips × 3 spatial crops.
    static func parseViews(_ text: String) throws -> VideoTestViews {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else {
            throw ConfigError("test_views = \(text): expected CLIPSxCROPS, e.g. 5x3 (5 temporal clips × 3 spatial crops)")
        }
        return VideoTestViews(temporalClips: parts[0], spatialCrops: parts[1])
    }
}
