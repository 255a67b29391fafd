import Foundation

/// Ctrl-C during training: the first SIGINT asks the trainer to stop after the current step
/// and write a checkpoint; a second one exits at once.
public enum Interrupt {
    nonisolated(unsafe) public private(set) static var requested = false
    nonisolated(unsafe) private static var installed = false

    public static func install() {
        guard !installed else { return }
        installed = true
        signal(SIGINT) { _ in
            if Interrupt.requested { _exit(130) }
            Interrupt.requested = true
        }
    }

    /// For tests: simulate or clear a request.
    public static func request(_ flag: Bool = true) { requested = flag }
}
