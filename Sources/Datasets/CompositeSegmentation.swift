import Foundation
import Tensor

/// A segmentation dataset whose masks are known by construction: real grey glyphs (an IDX
/// source such as Fashion-MNIST) pasted in colour onto crops of real photos (e.g. textile
/// textures). A mask pixel is glyph class + 1 where a pasted glyph covers it (its grey value
/// ≥ 128, i.e. blended at least half), 0 elsewhere; a later glyph covers an earlier one.
///
/// Train and test never share a source: their backgrounds come from disjoint sets of photos (a
/// seeded split of the sorted file list) and their glyphs from the IDX source's train and test
/// files (or, without a test pair, two disjoint halves of the train file). Every random choice is
/// drawn from a stream derived from the seed and the image's split and index, so the output is
/// the same byte for byte on every run.
///
/// Output (the `image mask` list layout `SegmentationDataset.list` reads, classes = glyph classes + 1):
///
///     <out>/train.txt, test.txt            "train/images/00000.png train/masks/00000.png" lines
///     <out>/{train,test}/images/*.png      RGB composites
///     <out>/{train,test}/masks/*.png       8-bit palette label maps (Pascal VOC colours)
///     <out>/{train,test}/sources.txt       per image: background file and the glyphs' pool:index:class
///     <out>/classes.txt                    "background", then the glyph class names
public enum CompositeSegmentation {
    public struct Options: Sendable {
        public var trainCount = 300
        public var testCount = 100
        public var imageSize = 112
        /// Glyphs per image, drawn uniformly.
        public var glyphs = 2...4
        /// Side of a pasted glyph as a fraction of the image side, drawn uniformly.
        public var glyphScale: ClosedRange<Double> = 0.25...0.5
        /// The share of background photos kept for the test split.
        public var testPhotoFraction = 0.25
        public var seed: UInt64 = 0
        /// Names of the glyph classes (classes.txt); nil = "class_<k>".
        public var classNames: [String]?

        public init() {}

        func validate() throws {
            func bad(_ what: String) -> DatasetError { DatasetError(file: "composite-segmentation options", what) }
            if trainCount < 1 || testCount < 1 { throw bad("train and test counts (\(trainCount), \(testCount)) must be positive") }
            if imageSize < 16 { throw bad("image size \(imageSize) must be at least 16") }
            if glyphs.lowerBound < 1 { throw bad("glyphs per image \(glyphs) must be at least 1") }
            if !(glyphScale.lowerBound > 0 && glyphScale.upperBound <= 1) { throw bad("glyph scale \(glyphScale) must lie in (0, 1]") }
            if !(testPhotoFraction > 0 && testPhotoFraction < 1) { throw bad("test photo fraction \(testPhotoFraction) must lie in (0, 1)") }
        }
    }

    /// What one split was built from.
    public struct SplitSummary: Sendable {
        public let images: Int
        /// Background photo paths (relative to the photo folder) this split may use.
        public let photos: [String]
        /// The glyph pool ("train" or "test" file of the IDX source, or its halves) and the
        /// indices actually pasted.
        public let glyphPool: String
        public let glyphsUsed: Set<Int>
        /// Pixels per class over the split (index 0 = background).
        public let classPixels: [Int]
    }

    public struct Summary: Sendable {
        public let classNames: [String]
        public let train: SplitSummary
        public let test: SplitSummary
    }

    /// Builds the dataset into `out` from the IDX folder `glyphs` (train-/t10k- image and label
    /// pairs, .gz or not) and the photos under `photos` (JPEG or PNG, searched recursively).
    public static func generate(glyphs glyphFolder: URL, photos photoFolder: URL, out: URL, options: Options) throws -> Summary {
        try options.validate()
        guard let trainGlyphs = try DatasetImporter.idxPair(in: glyphFolder, prefix: "train") else {
            throw DatasetError(file: glyphFolder.path, "no train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz] pair")
        }
        guard trainGlyphs.images.dimensions.count == 3 else {
            throw DatasetError(file: glyphFolder.path, "glyph images must be grey ([N, H, W]), got dimensions \(trainGlyphs.images.dimensions)")
        }
        let testGlyphs = try DatasetImporter.idxPair(in: glyphFolder, prefix: "t10k") ?? DatasetImporter.idxPair(in: glyphFolder, prefix: "test")
        // Without a test file the train file's halves keep the splits' glyphs apart.
        let half = trainGlyphs.count / 2
        let pools: (train: GlyphPool, test: GlyphPool) = testGlyphs.map {
            (GlyphPool(name: "train", source: trainGlyphs, indices: Array(0..<trainGlyphs.count)), GlyphPool(name: "test", source: $0, indices: Array(0..<$0.count)))
        } ?? (GlyphPool(name: "train[0..<\(half)]", source: trainGlyphs, indices: Array(0..<half)),
              GlyphPool(name: "train[\(half)...]", source: trainGlyphs, indices: Array(half..<trainGlyphs.count)))
        if let testGlyphs, testGlyphs.images.dimensions.dropFirst() != trainGlyphs.images.dimensions.dropFirst() {
            throw DatasetError(file: glyphFolder.path, "train and test glyphs differ in size (\(trainGlyphs.images.dimensions) vs \(testGlyphs.images.dimensions))")
        }
        let classCount = max(trainGlyphs.classCount, testGlyphs?.classCount ?? 0)
        guard classCount + 1 <= 255 else { throw DatasetError(file: glyphFolder.path, "\(classCount) glyph classes: at most 254 fit an 8-bit mask") }
        if let names = options.classNames, names.count != classCount {
            throw DatasetError(file: glyphFolder.path, "\(names.count) class names given for \(classCount) glyph classes")
        }
        let classNames = ["background"] + (options.classNames ?? (0..<classCount).map { "class_\($0)" })

        let photoFiles = try imageFiles(under: photoFolder)
        guard photoFiles.count >= 2 else { throw DatasetError(file: photoFolder.path, "needs at least 2 background photos (JPEG or PNG), found \(photoFiles.count)") }
        var splitRandom = SeededRandom(seed: options.seed).derived("photo-split")
        let shuffled = photoFiles.shuffled(using: &splitRandom)
        let testPhotoCount = min(photoFiles.count - 1, max(1, Int((Double(photoFiles.count) * options.testPhotoFraction).rounded())))
        let photoSplit = (train: Array(shuffled.dropFirst(testPhotoCount)).sorted(), test: Array(shuffled.prefix(testPhotoCount)).sorted())

        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileOutput.write(Data((classNames.joined(separator: "\n") + "\n").utf8), to: out.appendingPathComponent("classes.txt"))
        let builder = Builder(options: options, photoFolder: photoFolder, classCount: classCount)
        let train = try builder.writeSplit("train", count: options.trainCount, photos: photoSplit.train, glyphs: pools.train, out: out)
        let test = try builder.writeSplit("test", count: options.testCount, photos: photoSplit.test, glyphs: pools.test, out: out)
        return Summary(classNames: classNames, train: train, test: test)
    }

    /// Pastes a grey glyph (`side`×`side`, row-major) in `color` at (`x`, `y`): each pixel blends
    /// colour over the image by the glyph's grey value as opacity; where that value is ≥ 128 the
    /// mask takes `label`. The glyph must lie inside the image.
    public static func paste(glyph: [UInt8], side: Int, x: Int, y: Int, color: (UInt8, UInt8, UInt8), label: UInt8,
                             into image: inout RGB8Image, mask: inout LabelMap) {
        precondition(glyph.count == side * side && x >= 0 && y >= 0 && x + side <= image.width && y + side <= image.height,
                     "CompositeSegmentation.paste: a \(side)×\(side) glyph at (\(x), \(y)) does not fit \(image.width)×\(image.height)")
        let rgb = [color.0, color.1, color.2]
        for gy in 0..<side {
            for gx in 0..<side {
                let alpha = Int(glyph[gy * side + gx])
                guard alpha > 0 else { continue }
                let pixel = (y + gy) * image.width + (x + gx)
                for c in 0..<3 {
                    let under = Int(image.pixels[pixel * 3 + c])
                    // Integer blend, rounded: (under·(255 − α) + colour·α) / 255.
                    image.pixels[pixel * 3 + c] = UInt8((under * (255 - alpha) + Int(rgb[c]) * alpha + 127) / 255)
                }
                if alpha >= 128 { mask.labels[pixel] = label }
            }
        }
    }

    /// The image files under `folder`, as paths relative to it, sorted.
    static func imageFiles(under folder: URL) throws -> [String] {
        guard DirectoryListing.isDirectory(folder) else { throw DatasetError(file: folder.path, "not a folder of background photos") }
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { throw DatasetError(file: folder.path, "cannot list") }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            let lower = path.lowercased()
            if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") || lower.hasSuffix(".png") { files.append(path) }
        }
        return files.sorted()
    }
}

/// The glyphs one split may use.
private struct GlyphPool {
    let name: String
    let source: IDXDataset
    let indices: [Int]
}

private struct Builder {
    let options: CompositeSegmentation.Options
    let photoFolder: URL
    let classCount: Int

    func writeSplit(_ split: String, count: Int, photos: [String], glyphs: GlyphPool, out: URL) throws -> CompositeSegmentation.SplitSummary {
        guard !glyphs.indices.isEmpty else { throw DatasetError(file: "composite-segmentation", "no glyphs for the \(split) split") }
        let folder = out.appendingPathComponent(split)
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        var decoded: [String: RGB8Image] = [:]
        var list = "", sources = ""
        var used = Set<Int>(), classPixels = [Int](repeating: 0, count: classCount + 1)
        let side = options.imageSize
        let (glyphWidth, glyphHeight) = glyphs.source.imageSize
        for index in 0..<count {
            var rng = SeededRandom(seed: options.seed).derived("\(split)-\(index)")
            let photo = photos[rng.nextInt(photos.count)]
            if decoded[photo] == nil { decoded[photo] = try ImageDecoder.decode(contentsOf: photoFolder.appendingPathComponent(photo)) }
            var image = backgroundCrop(decoded[photo]!, rng: &rng)
            var mask = LabelMap(width: side, height: side, labels: [UInt8](repeating: 0, count: side * side))
            var pasted: [String] = []
            for _ in 0..<Int.random(in: options.glyphs, using: &rng) {
                let glyph = glyphs.indices[rng.nextInt(glyphs.indices.count)]
                let label = glyphs.source.label(at: glyph)
                let glyphSide = max(4, Int((Double(side) * Double.random(in: options.glyphScale, using: &rng)).rounded()))
                let grey = Array(glyphs.source.grayPixels(at: glyph)!)
                let scaled = RGB8Image(width: glyphWidth, height: glyphHeight, pixels: grey.flatMap { [$0, $0, $0] })
                    .resized(width: glyphSide, height: glyphSide, interpolation: .bilinear).pixels
                let alpha = stride(from: 0, to: scaled.count, by: 3).map { scaled[$0] }
                let x = rng.nextInt(side - glyphSide + 1), y = rng.nextInt(side - glyphSide + 1)
                let color = (UInt8(rng.nextInt(256)), UInt8(rng.nextInt(256)), UInt8(rng.nextInt(256)))
                CompositeSegmentation.paste(glyph: alpha, side: glyphSide, x: x, y: y, color: color, label: UInt8(label + 1), into: &image, mask: &mask)
                used.insert(glyph)
                pasted.append("\(glyphs.name):\(glyph):\(label)")
            }
            for value in mask.labels { classPixels[Int(value)] += 1 }
            let name = String(format: "%05d.png", index)
            try FileOutput.write(try PNGEncoder.encode(image), to: folder.appendingPathComponent("images/\(name)"))
            try FileOutput.write(try PNGLabelEncoder.encode(mask), to: folder.appendingPathComponent("masks/\(name)"))
            list += "\(split)/images/\(name) \(split)/masks/\(name)\n"
            sources += "\(split)/images/\(name) \(photo) \(pasted.joined(separator: " "))\n"
        }
        try FileOutput.write(Data(list.utf8), to: out.appendingPathComponent("\(split).txt"))
        try FileOutput.write(Data(sources.utf8), to: folder.appendingPathComponent("sources.txt"))
        return CompositeSegmentation.SplitSummary(images: count, photos: photos, glyphPool: glyphs.name, glyphsUsed: used, classPixels: classPixels)
    }

    /// A random square crop (half to all of the shorter side) of the photo, resized to the image side.
    private func backgroundCrop(_ photo: RGB8Image, rng: inout SeededRandom) -> RGB8Image {
        let shorter = min(photo.width, photo.height)
        let crop = max(1, Int.random(in: (shorter + 1) / 2...shorter, using: &rng))
        let x = rng.nextInt(photo.width - crop + 1), y = rng.nextInt(photo.height - crop + 1)
        return photo.cropped(to: TorchvisionGeometry.Box(left: x, top: y, width: crop, height: crop))
            .resized(width: options.imageSize, height: options.imageSize, interpolation: .bilinear)
    }
}
