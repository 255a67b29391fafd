import Foundation

/// HMDB51 as its authors distribute it: videos `<class>/<name>.avi` and, for each of the three
/// official splits k, one file per class `<class>_test_split<k>.txt` whose lines are
/// `<name>.avi <tag>` with tag 1 = training, 2 = test, 0 = unused in that split. Classes are the
/// 51 class names sorted, indexed from 0. Clips: dense sampling, 16 frames every 4 (VideoMAE's
/// `--sampling_rate 4` for UCF101/HMDB51); test views 5 × 3.
public enum HMDB51Dataset {
    public static let classCount = 51

    /// - Parameters:
    ///   - root: the dataset folder.
    ///   - split: the official split, 1, 2 or 3.
    ///   - splitFiles: folder under `root` with the split files (the archive's name by default).
    ///   - videos: folder under `root` holding the class folders.
    public static func load(root: URL, split: Int, splitFiles: String = "testTrainMulti_7030_splits", videos: String = "",
                            frames: Int = 16, stride: Int = 4) throws -> VideoDatasetSplits {
        let folder = root.appendingPathComponent(splitFiles)
        guard (1...3).contains(split) else { throw DatasetError(file: folder.path, "split \(split) does not exist; HMDB51 has splits 1, 2, 3") }
        let suffix = "_test_split\(split).txt"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw DatasetError(file: folder.path, "cannot list the split files: \((error as NSError).localizedDescription)")
        }
        let classNames = names.filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) }.sorted()
        guard !classNames.isEmpty else { throw DatasetError(file: folder.path, "no '<class>\(suffix)' files") }

        var train: [LabeledSample] = [], test: [LabeledSample] = []
        for (label, className) in classNames.enumerated() {
            if let problem = PathSafety.problem(with: className) { throw DatasetError(file: folder.path, "class '\(className)': \(problem)") }
            let file = folder.appendingPathComponent(className + suffix)
            guard let text = String(data: try ImageDecoder.readFile(file), encoding: .utf8) else {
                throw DatasetError(file: file.path, "split file is not UTF-8 text")
            }
            for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let fields = rawLine.split(whereSeparator: \.isWhitespace)
                if fields.isEmpty { continue }
                guard fields.count == 2, let tag = Int(fields[1]), (0...2).contains(tag) else {
                    throw DatasetError(file: file.path, line: offset + 1, "expected '<video>.avi <0|1|2>', got '\(rawLine)'")
                }
                let name = String(fields[0])
                if let problem = PathSafety.problem(with: name) { throw DatasetError(file: file.path, line: offset + 1, problem) }
                let path = [videos, className, name].filter { !$0.isEmpty }.joined(separator: "/")
                let sample = LabeledSample(path: path, label: label, listFile: file.path, line: offset + 1)
                if tag == 1 { train.append(sample) } else if tag == 2 { test.append(sample) }
            }
        }
        return VideoDatasetSplits(root: root, classNames: classNames, train: train, test: test,
                                  sampling: .dense(frames: frames, stride: stride), testViews: .kineticsStyle)
    }
}
