import Foundation

/// An event file TensorBoard reads: `events.out.tfevents.<unix time>.<host>` in a folder, opening
/// with the file-version event, then TFRecord-framed events appended as they happen (each one
/// is on disk when `write` returns, so `tensorboard --logdir` shows a run while it trains).
/// Every process writes its own file, as TensorBoard expects: it reads a folder's files in name
/// order, and the names start with the time.
public final class TensorBoardEventFile {
    public let url: URL
    private let handle: FileHandle

    /// Creates the file, never reusing one: a second file in the same second gets ".1", ".2", ….
    public init(folder: URL, now: Date = Date(), host: String = ProcessInfo.processInfo.hostName) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let base = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host.isEmpty ? "localhost" : host)"
        var url = folder.appendingPathComponent(base), suffix = 0
        while FileManager.default.fileExists(atPath: url.path) {
            suffix += 1
            url = folder.appendingPathComponent("\(base).\(suffix)")
        }
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ConfigError("\(url.path): cannot create the TensorBoard event file (\(String(cString: strerror(errno))))")
        }
        self.url = url
        handle = try FileHandle(forWritingTo: url)
        try write(TensorBoardEvent(wallTime: now.timeIntervalSince1970, step: 0, content: .fileVersion(TensorBoardEvent.fileVersion)))
    }

    deinit { try? handle.close() }

    public func write(_ event: TensorBoardEvent) throws {
        do {
            try handle.write(contentsOf: TFRecord.framed(event.encoded))
        } catch {
            throw ConfigError("\(url.path): cannot write a TensorBoard event (\(error.localizedDescription))")
        }
    }
}
