import Foundation

/// A video stored as pre-extracted frames, the `rawframes/<video>/img_00001.jpg` layout of
/// mmaction2 and VideoMAE's frame loaders: files named `<prefix><number>.<jpg|png>` with
/// consecutive numbers from 1. Frame i of the clip is the file numbered i + 1. Frames are decoded
/// on demand by `ImageDecoder`, so a damaged frame is an error naming that file.
public struct RawFrameFolder: VideoFrameSource {
    public let source: String
    public let frameCount: Int
    private let files: [URL]

    /// The file-name prefix before the frame number (mmaction2's `filename_tmpl` `img_{:05}.jpg`).
    public static let defaultPrefix = "img_"

    public init(_ folder: URL, prefix: String = RawFrameFolder.defaultPrefix) throws {
        source = folder.path
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw DatasetError(file: folder.path, "cannot list the frame folder: \((error as NSError).localizedDescription)")
        }
        var numbered: [Int: String] = [:]
        for name in names where name.hasPrefix(prefix) {
            let stem = name.dropFirst(prefix.count).split(separator: ".", maxSplits: 1)
            guard stem.count == 2, ["jpg", "jpeg", "png"].contains(stem[1].lowercased()), let number = Int(stem[0]) else { continue }
            if let other = numbered[number] {
                throw DatasetError(file: folder.path, "frames '\(other)' and '\(name)' both have number \(number)")
            }
            numbered[number] = name
        }
        guard !numbered.isEmpty else {
            throw DatasetError(file: folder.path, "no frames named '\(prefix)<number>.jpg' (or .png) in the folder")
        }
        for number in 1...numbered.count where numbered[number] == nil {
            throw DatasetError(file: folder.path, "frame \(number) is missing ('\(prefix)\(String(format: "%05d", number)).jpg'); \(numbered.count) frames are numbered up to \(numbered.keys.max()!)")
        }
        frameCount = numbered.count
        files = (1...numbered.count).map { folder.appendingPathComponent(numbered[$0]!) }
    }

    public func frames(at indices: [Int]) throws -> [RGB8Image] {
        var decoded: [Int: RGB8Image] = [:]
        return try indices.map { index in
            guard (0..<frameCount).contains(index) else {
                throw DatasetError(file: source, "frame \(index) requested; the folder has \(frameCount) frames")
            }
            if let image = decoded[index] { return image }
            let image = try ImageDecoder.decode(contentsOf: files[index])
            decoded[index] = image
            return image
        }
    }
}
