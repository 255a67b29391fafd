/// Resampling filters, named as PIL and torchvision name them. Recorded in every pipeline
/// description, because bilinear and bicubic preprocessing change benchmark accuracy.
public enum Interpolation: String, Codable, Sendable, CaseIterable {
    case bilinear, bicubic
}
