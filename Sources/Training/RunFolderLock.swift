import Foundation

/// An advisory lock on a run folder (`flock` on `<folder>/.lock`), held while a run trains or
/// resumes there: a second `vpeft train --out` (or `--resume`) on the same folder would
/// interleave its checkpoint and record writes with the first. The file names the holder, so the
/// refusal can say who it is; the kernel drops the lock when the holder exits, even on a crash.
public final class RunFolderLock {
    private let descriptor: Int32

    /// Creates the folder if needed and takes its lock, or throws a plain-sentence error: the
    /// folder cannot be created or written (with the system's reason), or another process holds it.
    public init(folder: URL) throws {
        try Self.makeFolder(folder.path)
        let path = folder.appendingPathComponent(".lock").path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigError("cannot write in the run folder \(folder.path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw ConfigError("the run folder \(folder.path) is in use by another vpeft process\(holder.isEmpty ? "" : " (\(holder))"); "
                              + "wait for it to finish or choose another --out")
        }
        let holder = "pid \(getpid()), started \(ISO8601DateFormatter().string(from: Date())): \(CommandLine.arguments.joined(separator: " "))\n"
        _ = ftruncate(descriptor, 0)
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        close(descriptor)   // releases the lock
    }

    /// `mkdir -p` with the system's reason on failure ("Permission denied", "Not a directory"):
    /// Foundation's error for the same case can be a bare "NSCocoaErrorDomain error 512".
    private static func makeFolder(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST {
                throw ConfigError("cannot create the run folder \(path): \(String(cString: strerror(errno)))")
            }
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ConfigError("cannot create the run folder \(path): a file of that name is in the way")
        }
    }
}
