import Foundation

/// A dataset's file list with the SHA-256 of every file, in `sha256sum` format (so
/// `sha256sum -c MANIFEST.sha256` checks it too): written once by `vpeft data verify`, then
/// compared on every later verify to catch files that changed, vanished or appeared.
public struct DatasetManifest: Equatable, Sendable {
    public static let defaultFileName = "MANIFEST.sha256"

    /// Relative path → lowercase hex SHA-256.
    public let digests: [String: String]

    public init(digests: [String: String]) { self.digests = digests }

    /// Hashes `paths` (relative to `root`) on `threads` threads.
    public init(hashing paths: [String], under root: URL, threads: Int) throws {
        let unique = Array(Set(paths)).sorted()
        var results = [Result<String, Error>?](repeating: nil, count: unique.count)
        let lock = NSLock()
        let workers = Swift.max(1, Swift.min(threads, unique.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: unique.count, by: workers) {
                let result = Result { try SHA256.hexDigest(ofFile: root.appendingPathComponent(unique[i])) }
                lock.lock(); results[i] = result; lock.unlock()
            }
        }
        var digests: [String: String] = [:]
        for (i, path) in unique.enumerated() { digests[path] = try results[i]!.get() }
        self.digests = digests
    }

    public init(contentsOf url: URL) throws {
        let data = try ImageDecoder.readFile(url)
        guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: url.path, "manifest is not UTF-8 text") }
        var digests: [String: String] = [:]
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 1)
            let digest = parts.first.map(String.init) ?? ""
            guard parts.count == 2, digest.count == 64, digest.allSatisfy(\.isHexDigit), parts[1].hasPrefix(" ") || parts[1].hasPrefix("*") else {
                throw DatasetError(file: url.path, line: offset + 1, "expected '<64 hex digits>  <path>'")
            }
            digests[String(parts[1].dropFirst())] = digest.lowercased()
        }
        self.digests = digests
    }

    public var text: String { digests.keys.sorted().map { "\(digests[$0]!)  \($0)\n" }.joined() }

    public func write(to url: URL) throws {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw DatasetError(file: url.path, "cannot write manifest: \((error as NSError).localizedDescription)")
        }
    }

    /// How `self` (now) differs from `recorded`: files missing now, new files, changed files.
    public func differences(from recorded: DatasetManifest) -> (missing: [String], added: [String], changed: [String]) {
        let now = Set(digests.keys), before = Set(recorded.digests.keys)
        return (before.subtracting(now).sorted(), now.subtracting(before).sorted(),
                now.intersection(before).filter { digests[$0] != recorded.digests[$0] }.sorted())
    }
}
