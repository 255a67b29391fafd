import Foundation

/// Ctrl-C (SIGINT) or SIGTERM during training: the first signal asks the trainer to stop after
/// the current step and write a checkpoint; a second one exits at once. SIGTERM is what Slurm
/// sends on a time limit (with `--signal`), a preemption, `scancel` or `scontrol requeue`, so a
/// cell stopped by the scheduler resumes from that step when it runs again.
public enum Interrupt {
    nonisolated(unsafe) public private(set) static var requested = false
    /// The signal that asked (SIGINT when a test asked through `request`).
    nonisolated(unsafe) public private(set) static var receivedSignal: Int32 = SIGINT
    nonisolated(unsafe) private static var installed = false

    public static func install() {
        guard !installed else { return }
        installed = true
        for caught in [SIGINT, SIGTERM] {
            signal(caught) { number in
                if Interrupt.requested { _exit(128 + number) }
                Interrupt.receivedSignal = number
                Interrupt.requested = true
            }
        }
    }

    /// The shell's convention for a process ended by the signal that asked: 130 after Ctrl-C,
    /// 143 after SIGTERM — so a scheduler's log shows the cell stopped, not finished.
    public static var exitStatus: Int32 { 128 + receivedSignal }

    /// For tests: simulate or clear a request, as if `signal` had arrived.
    public static func request(_ flag: Bool = true, signal: Int32 = SIGINT) {
        receivedSignal = signal
        requested = flag
    }
}
