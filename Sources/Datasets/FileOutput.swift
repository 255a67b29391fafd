import Foundation

/// Writes whole files with plain `open`/`write`/`close`. Foundation's `Data.write(to:)` on
/// Linux syncs every file to disk, which made importing 11,000 images take minutes; dataset
/// files are cheap to rewrite, so the import needs no per-file durability.
enum FileOutput {
    static func write(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DatasetError(file: url.path, "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DatasetError(file: url.path, "cannot write: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }
}
