import Foundation
import Models

/// The decode and auxiliary heads of Hugging Face's `UperNetConfig` (field names are HF's).
public struct UperNetConfig: Codable, Equatable, Sendable {
    /// Channels of every head layer (`hidden_size`; 512 in mmseg's Swin recipes).
    public var hiddenSize = 512
    /// Output sides of the pyramid pooling module.
    public var poolScales = [1, 2, 3, 6]
    public var numLabels = 150
    public var useAuxiliaryHead = true
    /// The auxiliary FCN head reads backbone feature 2 (stride 16).
    public var auxiliaryInIndex = 2
    public var auxiliaryChannels = 256
    public var auxiliaryNumConvs = 1
    public var auxiliaryConcatInput = false
    public var auxiliaryLossWeight: Float = 0.4
    public var lossIgnoreIndex = 255

    public init() {}

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", poolScales = "pool_scales", numLabels = "num_labels", useAuxiliaryHead = "use_auxiliary_head"
        case auxiliaryInIndex = "auxiliary_in_index", auxiliaryChannels = "auxiliary_channels", auxiliaryNumConvs = "auxiliary_num_convs"
        case auxiliaryConcatInput = "auxiliary_concat_input", auxiliaryLossWeight = "auxiliary_loss_weight", lossIgnoreIndex = "loss_ignore_index"
    }

    /// The head fields of an HF `config.json` (`model_type` "upernet"); the label count is
    /// `num_labels` or the size of `id2label`. `auxiliary_in_channels` must be null (the
    /// auxiliary head reads the backbone's stage-3 channels).
    public static func fromHuggingFace(_ json: [String: Any], file: String) throws -> UperNetConfig {
        let values = HubConfigValues(file: file)
        var c = UperNetConfig()
        if let v = json["hidden_size"] { c.hiddenSize = try values.int("hidden_size", v) }
        if let v = json["pool_scales"] { c.poolScales = try values.ints("pool_scales", v) }
        if let v = json["num_labels"] {
            c.numLabels = try values.int("num_labels", v)
        } else if let labels = json["id2label"] as? [String: Any] {
            c.numLabels = labels.count
        }
        if let v = json["use_auxiliary_head"] { c.useAuxiliaryHead = try values.bool("use_auxiliary_head", v) }
        if let v = json["auxiliary_channels"] { c.auxiliaryChannels = try values.int("auxiliary_channels", v) }
        if let v = json["auxiliary_num_convs"] { c.auxiliaryNumConvs = try values.int("auxiliary_num_convs", v) }
        if let v = json["auxiliary_concat_input"] { c.auxiliaryConcatInput = try values.bool("auxiliary_concat_input", v) }
        if let v = json["auxiliary_loss_weight"] { c.auxiliaryLossWeight = try values.float("auxiliary_loss_weight", v) }
        if let v = json["loss_ignore_index"] { c.lossIgnoreIndex = try values.int("loss_ignore_index", v) }
        if let v = json["auxiliary_in_channels"], !(v is NSNull) {
            throw values.error("auxiliary_in_channels = \(v): only null (the backbone's own stage-3 channels) is supported")
        }
        try c.validate(file: file)
        return c
    }

    public func validate(file: String) throws {
        let values = HubConfigValues(file: file)
        if hiddenSize <= 0 { throw values.error("hidden_size = \(hiddenSize) must be positive") }
        if poolScales.isEmpty || poolScales.contains(where: { $0 <= 0 }) { throw values.error("pool_scales = \(poolScales) must be positive") }
        if numLabels <= 0 { throw values.error("num_labels = \(numLabels) must be positive") }
        if useAuxiliaryHead && (auxiliaryChannels <= 0 || auxiliaryNumConvs < 0) {
            throw values.error("auxiliary_channels = \(auxiliaryChannels), auxiliary_num_convs = \(auxiliaryNumConvs): channels must be positive, convs ≥ 0")
        }
    }
}
