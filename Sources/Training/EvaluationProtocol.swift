/// Which split trains, which one the reported number comes from, and how it is chosen — every
/// result names its protocol.
public enum EvaluationProtocol: String, Codable, CaseIterable, Sendable {
    /// V-PETL's code: train on train800val200, evaluate test on a schedule, report the maximum.
    /// This selects on the test set; results say so.
    case vpetl
    /// The final run of the honest protocol: train on train800val200, report test accuracy at
    /// the final epoch (the grid averages three seeds).
    case honest
    /// The selection runs of the honest protocol: train on train800, report val200 accuracy at
    /// the final epoch; hyper-parameters are chosen by it.
    case honestSelect = "honest-select"

    /// VTAB-1k split names.
    public var trainSplit: String { self == .honestSelect ? "train800" : "train800val200" }
    public var evalSplit: String { self == .honestSelect ? "val200" : "test" }

    /// The score this protocol reports from a run's evaluation history (top-1 accuracy, or mIoU
    /// for segmentation: `EpochRecord.evalScore`), and how it was chosen; `evalSplit` names the
    /// split evaluated (VTAB-1k's by default; ADE20K's `validation`, a video dataset's `test`).
    public func reported(from history: [EpochRecord], evalSplit: String? = nil) -> (score: Double, kind: String)? {
        let split = evalSplit ?? self.evalSplit
        let evaluated = history.compactMap { record in record.evalScore.map { (record.epoch, $0) } }
        guard let last = evaluated.last else { return nil }
        switch self {
        case .vpetl:
            let best = evaluated.max { $0.1 < $1.1 }!
            return (best.1, "best of \(evaluated.count) \(split) evaluations (epoch \(best.0); test-set selection)")
        case .honest:
            return (last.1, "final epoch (\(split))")
        case .honestSelect:
            return (last.1, "final epoch (\(split), for selection)")
        }
    }
}
