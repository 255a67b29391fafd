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
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ConfigError("cannot create the run folder \(folder.path): \(Self.reason(of: error))")
        }
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

    /// The system's reason for a failed file operation ("Permission denied"), not Foundation's
    /// error dump.
    static func reason(of error: Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix = underlying, posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
        if let code = (error as? CocoaError)?.code {
            switch code {
            case .fileWriteNoPermission: return "permission denied"
            case .fileWriteVolumeReadOnly: return "read-only file system"
            case .fileWriteOutOfSpace: return "no space left on the device"
            case .fileWriteFileExists: return "a file of that name is in the way"
            default: break
            }
        }
        return (error as NSError).localizedDescription
    }
}
