import Foundation

/// The Performance-Parameter Trade-off of the V-PEFT Bench paper:
///     PPT = (M / 100) · exp(−log10(P / C + 1)),  C = 10^7,
/// M the accuracy in %, P the trainable parameters without the head. Undefined (nil) for full
/// fine-tuning, as in the paper's tables.
public enum PPT {
    public static let normaliser = 1e7

    /// nil for method "full" (full fine-tuning).
    public static func value(accuracy: Double, trainableParameters: Int, method: String) -> Double? {
        method == "full" ? nil : value(accuracy: accuracy, trainableParameters: trainableParameters)
    }

    public static func value(accuracy: Double, trainableParameters: Int) -> Double {
        accuracy / 100 * exp(-log10(Double(trainableParameters) / normaliser + 1))
    }

    /// The accuracy (%) at which a method with `trainableParameters` reaches `ppt`: the
    /// formula solved for M. Traces the iso-PPT curves of the PPT plot.
    public static func accuracy(forPPT ppt: Double, trainableParameters: Double) -> Double {
        100 * ppt * exp(log10(trainableParameters / normaliser + 1))
    }
}
