import Foundation

/// A semantic segmentation split: image and mask files in pairs, with the label convention of
/// its benchmark. Layouts:
///
/// | layout | files | classes | labels |
/// |---|---|---|---|
/// | ADE20K (`ADEChallengeData2016/`) | `images/{training,validation}/X.jpg` + `annotations/{…}/X.png` (8-bit grey) | 150 | reduce-zero-label: 0 → 255 (ignored), k → k − 1 |
/// | Pascal VOC 2012 (`VOC2012/`) | `ImageSets/Segmentation/{train,val}.txt` names X → `JPEGImages/X.jpg` + `SegmentationClass/X.png` (palette) | 21 | as stored, 255 = boundary (ignored) |
/// | list file | one `image mask` pair per line, paths relative to the list's folder | given | as stored, or reduce-zero-label |
///
/// Paths never leave the dataset folder (`PathSafety`): a list line is user data.
public struct SegmentationDataset: Sendable {
    public struct Sample: Equatable, Sendable {
        public let image: URL
        public let mask: URL
    }

    public let name: String
    public let numClasses: Int
    /// Labels equal to this are not scored or trained on (mmseg's and Hugging Face's 255).
    public let ignoreIndex: Int
    /// ADE20K's convention: mask value 0 is “other” and becomes 255 (ignored); k becomes k − 1.
    public let reduceZeroLabel: Bool
    public let samples: [Sample]

    /// ADE20K SceneParsing: `root` is `ADEChallengeData2016` or the folder holding it;
    /// `split` is `training` or `validation`. Every image needs its mask.
    public static func ade20k(root: URL, split: String) throws -> SegmentationDataset {
        guard ["training", "validation"].contains(split) else {
            throw DatasetError(file: root.path, "ADE20K split '\(split)': expected 'training' or 'validation'")
        }
        let base = DirectoryListing.isDirectory(root.appendingPathComponent("ADEChallengeData2016")) ? root.appendingPathComponent("ADEChallengeData2016") : root
        let images = base.appendingPathComponent("images/\(split)"), masks = base.appendingPathComponent("annotations/\(split)")
        for folder in [images, masks] where !DirectoryListing.isDirectory(folder) {
            throw DatasetError(file: folder.path, "missing: an ADE20K folder holds images/\(split) and annotations/\(split)")
        }
        let names = try DirectoryListing.sortedEntries(images).filter { $0.lowercased().hasSuffix(".jpg") }
        let samples = try names.map { file -> Sample in
            let mask = masks.appendingPathComponent((file as NSString).deletingPathExtension + ".png")
            guard FileManager.default.fileExists(atPath: mask.path) else {
                throw DatasetError(file: mask.path, "missing: the mask of \(images.appendingPathComponent(file).path)")
            }
            return Sample(image: images.appendingPathComponent(file), mask: mask)
        }
        return SegmentationDataset(name: "ade20k/\(split)", numClasses: 150, ignoreIndex: 255, reduceZeroLabel: true, samples: samples)
    }

    /// Pascal VOC 2012 segmentation: `root` is `VOC2012` (or `VOCdevkit` holding it); `split`
    /// names `ImageSets/Segmentation/<split>.txt` (`train`, `val`, `trainval`).
    public static func pascalVOC(root: URL, split: String) throws -> SegmentationDataset {
        let base = DirectoryListing.isDirectory(root.appendingPathComponent("VOC2012")) ? root.appendingPathComponent("VOC2012") : root
        let list = base.appendingPathComponent("ImageSets/Segmentation/\(split).txt")
        let text = try readText(list)
        let realRoot = try PathSafety.realRoot(base, source: list.path)
        var samples: [Sample] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let name = line.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            samples.append(Sample(image: try PathSafety.resolve("JPEGImages/\(name).jpg", realRoot: realRoot, source: list.path, line: number + 1),
                                  mask: try PathSafety.resolve("SegmentationClass/\(name).png", realRoot: realRoot, source: list.path, line: number + 1)))
        }
        guard !samples.isEmpty else { throw DatasetError(file: list.path, "no image names") }
        return SegmentationDataset(name: "voc2012/\(split)", numClasses: 21, ignoreIndex: 255, reduceZeroLabel: false, samples: samples)
    }

    /// A list file of `image mask` lines (paths relative to the list's folder; blank lines and
    /// `#` comments skipped).
    public static func list(_ file: URL, numClasses: Int, reduceZeroLabel: Bool = false) throws -> SegmentationDataset {
        guard numClasses > 0 && numClasses <= 255 else { throw DatasetError(file: file.path, "number of classes \(numClasses) must be in 1…255") }
        let text = try readText(file)
        let realRoot = try PathSafety.realRoot(file.deletingLastPathComponent(), source: file.path)
        var samples: [Sample] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count == 2 else {
                throw DatasetError(file: file.path, line: number + 1, "expected 'image mask', found \(fields.count) field\(fields.count == 1 ? "" : "s")")
            }
            samples.append(Sample(image: try PathSafety.resolve(fields[0], realRoot: realRoot, source: file.path, line: number + 1),
                                  mask: try PathSafety.resolve(fields[1], realRoot: realRoot, source: file.path, line: number + 1)))
        }
        guard !samples.isEmpty else { throw DatasetError(file: file.path, "no 'image mask' lines") }
        return SegmentationDataset(name: file.lastPathComponent, numClasses: numClasses, ignoreIndex: 255,
                                   reduceZeroLabel: reduceZeroLabel, samples: samples)
    }

    /// The training labels of sample `index`: the mask as stored, with this dataset's convention applied.
    public func labels(of index: Int) throws -> LabelMap {
        let map = try LabelMap(contentsOf: samples[index].mask)
        return reduceZeroLabel ? map.reducingZeroLabel() : map
    }

    private static func readText(_ url: URL) throws -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError(file: url.path, "cannot read") }
        guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: url.path, "not UTF-8 text") }
        return text
    }
}
