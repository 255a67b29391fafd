import Foundation

/// Checks a segmentation split pair by pair: the image decodes, the mask decodes as a label map
/// (palette or grey, see `PNGLabelDecoder`), both have the same size, and every label — after
/// the dataset's convention (reduce-zero-label) — is a class or the ignore index. Counts the
/// pixels of each class on the way (a class with none in a training split is worth knowing).
public struct SegmentationVerification: Sendable {
    public let dataset: String
    public let pairsChecked: Int
    /// Labelled pixels per class after the convention, over the pairs without problems; ignored pixels apart.
    public let classPixels: [Int]
    public let ignoredPixels: Int
    /// One line per problem, naming the file.
    public let problems: [String]

    public var passed: Bool { problems.isEmpty }

    public static func verify(_ dataset: SegmentationDataset) -> SegmentationVerification {
        var counts = [Int](repeating: 0, count: dataset.numClasses)
        var ignored = 0
        var problems: [String] = []
        for (index, sample) in dataset.samples.enumerated() {
            let image: RGB8Image, labels: LabelMap
            do {
                image = try ImageDecoder.decode(contentsOf: sample.image)
                labels = try dataset.labels(of: index)
            } catch {
                problems.append("\(error)")
                continue
            }
            if image.width != labels.width || image.height != labels.height {
                problems.append("\(sample.mask.path): mask is \(labels.width)×\(labels.height), its image \(sample.image.lastPathComponent) is \(image.width)×\(image.height)")
                continue
            }
            var outOfRange: [Int: Int] = [:]
            var imageCounts = [Int](repeating: 0, count: dataset.numClasses), imageIgnored = 0
            for label in labels.labels {
                let l = Int(label)
                if l == dataset.ignoreIndex {
                    imageIgnored += 1
                } else if l < dataset.numClasses {
                    imageCounts[l] += 1
                } else {
                    outOfRange[l, default: 0] += 1
                }
            }
            if outOfRange.isEmpty {
                for c in 0..<dataset.numClasses { counts[c] += imageCounts[c] }
                ignored += imageIgnored
            } else {
                let values = outOfRange.keys.sorted().map { "\($0) (\(outOfRange[$0]!) px)" }.joined(separator: ", ")
                let convention = dataset.reduceZeroLabel ? " after reduce-zero-label" : ""
                problems.append("\(sample.mask.path): labels \(values)\(convention) are neither a class (0..<\(dataset.numClasses)) nor the ignore index \(dataset.ignoreIndex)")
            }
        }
        return SegmentationVerification(dataset: dataset.name, pairsChecked: dataset.samples.count, classPixels: counts,
                                        ignoredPixels: ignored, problems: problems)
    }
}
