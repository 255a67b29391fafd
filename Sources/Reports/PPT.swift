import Foundation

/// The Performance-Parameter Trade-off of the V-PEFT Bench paper:
///     PPT = (M / 100) · exp(−log10(P / C + 1)),  C = 10^7,
/// M the accuracy in %, P the trainable parameters without the head. Undefined (nil) for full
/// fine-tuning, as in the paper's tables.
public enum PPT {
    public static let normaliser = 1e7

    public static func value(accuracy: Double, trainableParameters: Int, method: String) -> Double? {
        guard method != "full" else { return nil }
        return accuracy / 100 * exp(-log10(Double(trainableParameters) / normaliser + 1))
    }
}
