import Foundation

/// Keeps every dataset path inside its dataset root: list files are user data, and a line
/// such as `../../home/me/.ssh/id_rsa 0` or a symlink planted in the image folder must not
/// make a training run (or `verify`) read outside the dataset.
enum PathSafety {
    /// Why `path` is not an acceptable relative path (empty, absolute, `..` component, NUL),
    /// or nil when it is.
    static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        if path.hasPrefix("/") || path.hasPrefix("~") { return "absolute path '\(path)' (paths must be relative to the dataset folder)" }
        if path.contains("\0") { return "path contains a NUL byte" }
        if path.split(separator: "/", omittingEmptySubsequences: true).contains("..") {
            return "path '\(path)' has a '..' component (it would escape the dataset folder)"
        }
        return nil
    }

    /// The dataset folder with symlinks resolved (what `resolve` checks containment against).
    static func realRoot(_ root: URL, source: String) throws -> String {
        try realPath(root.path, source: source, line: nil, what: "dataset folder")
    }

    /// The real location of `path` under the (already resolved) `realRoot`; throws when the
    /// file does not exist or resolves outside the root.
    static func resolve(_ path: String, realRoot: String, source: String, line: Int?) throws -> URL {
        if let problem = problem(with: path) { throw DatasetError(file: source, line: line, problem) }
        let realFile = try realPath(realRoot + "/" + path, source: source, line: line, what: "image '\(path)'")
        guard realFile.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
            throw DatasetError(file: source, line: line, "'\(path)' resolves to \(realFile), outside the dataset folder \(realRoot) (symlink escape)")
        }
        return URL(fileURLWithPath: realFile)
    }

    private static func realPath(_ path: String, source: String, line: Int?, what: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            let reason = String(cString: strerror(errno))
            throw DatasetError(file: source, line: line, "\(what) not found at \(path) (\(reason))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
