import Foundation

/// Training progress: a live bar on a terminal, plain log lines otherwise (CI, files).
public final class ProgressReporter {
    public let interactive: Bool
    private let quiet: Bool
    private var lastPlainLine = Date.distantPast

    public init(quiet: Bool = false) {
        self.quiet = quiet
        interactive = isatty(STDOUT_FILENO) == 1
    }

    public func step(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double, lr: Double, imagesPerSecond: Double, eta: TimeInterval) {
        guard !quiet else { return }
        let text = String(format: "epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %.1f img/s  ETA %@",
                          epoch + 1, epochs, step, steps, loss, lr, imagesPerSecond, Self.duration(eta))
        if interactive {
            let width = 24, filled = steps > 0 ? width * step / steps : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardOutput.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
        } else if Date().timeIntervalSince(lastPlainLine) >= 10 || step == steps {
            lastPlainLine = Date()
            print(text)
        }
    }

    /// A line that stays (epoch summaries, evaluations).
    public func line(_ text: String) {
        guard !quiet else { return }
        if interactive { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        print(text)
    }

    static func duration(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
