import Foundation

/// Anything a clip's frames are read from: a video file (`VideoDecoder`) or a folder of
/// pre-extracted frames (`RawFrameFolder`). Frames are numbered from 0 in presentation order.
public protocol VideoFrameSource {
    /// The file or folder, as errors name it.
    var source: String { get }
    var frameCount: Int { get }
    /// The frames at `indices` (repeats allowed), in the order asked.
    func frames(at indices: [Int]) throws -> [RGB8Image]
}

extension VideoDecoder: VideoFrameSource {}

/// Opens a video's frames: a folder is read as pre-extracted frames, a file is decoded.
public enum VideoFrames {
    public static func open(_ url: URL) throws -> VideoFrameSource {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw DatasetError(file: url.path, "video file or frame folder is missing")
        }
        return isFolder.boolValue ? try RawFrameFolder(url) : try VideoDecoder(contentsOf: url)
    }
}
