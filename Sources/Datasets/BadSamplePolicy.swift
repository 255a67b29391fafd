import Foundation

/// What to do with a sample that cannot be used (corrupt image, unreadable line, bad label):
/// stop with an error naming it (the default: a benchmark must not silently train on less
/// data), or — when the user asks explicitly (`--skip-bad`) — leave it out and count it.
public enum BadSamplePolicy: String, Codable, Sendable {
    case fail, skip
}

/// The samples left out under `BadSamplePolicy.skip`, with the reason for each, reported at
/// the end of a run. Thread-safe: loader workers record into it concurrently. Each sample is
/// counted once however many epochs meet it.
public final class SkipReport: @unchecked Sendable {
    private let lock = NSLock()
    private var reasons: [String: String] = [:]

    public init() {}

    func record(_ error: DatasetError) {
        let place = error.line.map { "\(error.file):\($0)" } ?? error.file
        lock.lock()
        if reasons[place] == nil { reasons[place] = error.reason }
        lock.unlock()
    }

    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return reasons.count
    }

    /// "file[:line]: reason" per skipped sample, sorted.
    public var entries: [String] {
        lock.lock(); defer { lock.unlock() }
        return reasons.keys.sorted().map { "\($0): \(reasons[$0]!)" }
    }

    /// One line for logs, e.g. "skipped 3 bad samples".
    public var summary: String { count == 0 ? "no bad samples skipped" : "skipped \(count) bad sample\(count == 1 ? "" : "s")" }
}

extension BadSamplePolicy {
    /// Runs `body`; under `.skip` a `DatasetError` is recorded and `nil` returned, under
    /// `.fail` it propagates. Other errors always propagate.
    func attempt<T>(_ report: SkipReport, _ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let error as DatasetError where self == .skip {
            report.record(error)
            return nil
        }
    }
}
