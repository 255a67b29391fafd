import Foundation
import NN

/// The configuration of a VideoMAE encoder with its classification head, under the names of
/// Hugging Face's `VideoMAEConfig` (what a hub folder's config.json holds). The architecture is
/// a ViT over tubelets: the defaults are VideoMAE ViT-B/16, 16 frames of 224×224, tubelets of
/// 2 frames × 16 × 16 pixels (8 × 14 × 14 = 1568 tokens).
public struct VideoMAEConfig: Codable, Equatable, Sendable {
    public var imageSize = 224
    public var patchSize = 16
    public var numChannels = 3
    public var numFrames = 16
    public var tubeletSize = 2
    public var hiddenSize = 768
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var intermediateSize = 3072
    public var hiddenAct: Activation = .gelu
    /// Learned query and value biases (the key bias is fixed at zero: VideoMAE's `q_bias`/`v_bias`).
    public var qkvBias = true
    /// Epsilon of every block's LayerNorm (the released code uses 1e-6; HF's default is 1e-12,
    /// and the MCG-NJU hub configs state their own).
    public var layerNormEps: Float = 1e-6
    /// Epsilon of `fc_norm`: HF builds it as `nn.LayerNorm(hidden_size)` (1e-5) whatever the
    /// config says; the released code uses 1e-6 everywhere.
    public var fcNormEps: Float = 1e-5
    /// Mean of all tokens → `fc_norm` (fine-tuned models); otherwise the final `norm` and the
    /// first token.
    public var useMeanPooling = true
    public var numLabels = 0
    public var dropPathRate: Float = 0
    /// LayerScale on both residual branches, initialised to this value (nil: none, as the
    /// released VideoMAE models). DINOv2's blocks have it, so a model inflated from one does.
    public var layerScaleInit: Float?
    /// How tokens learn where they are: VideoMAE's fixed table or an image model's spatial table.
    public var positionEmbeddingType: VideoPositionEmbedding = .sinusoid
    /// The factor on the temporal table of `.spatialLearnedTemporalSinusoid` positions.
    public var temporalPositionScale: Float = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", numChannels = "num_channels", numFrames = "num_frames"
        case tubeletSize = "tubelet_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case qkvBias = "qkv_bias", layerNormEps = "layer_norm_eps", fcNormEps = "fc_norm_eps", useMeanPooling = "use_mean_pooling"
        case numLabels = "num_labels", dropPathRate = "drop_path_rate"
        case layerScaleInit = "layerscale_value", positionEmbeddingType = "position_embedding_type"
        case temporalPositionScale = "temporal_position_scale"
    }

    public var gridSize: Int { imageSize / patchSize }
    /// Values in one tubelet: what the tubelet embedding's linear map reads.
    public var tubeletValues: Int { numChannels * tubeletSize * patchSize * patchSize }

    public func validate() throws {
        func bad(_ field: String, _ value: Any, _ expectation: String) -> ModelConfigError {
            ModelConfigError("VideoMAE \(field) = \(value): \(expectation)")
        }
        if patchSize <= 0 || imageSize <= 0 || imageSize % patchSize != 0 { throw bad("patch_size", patchSize, "must divide image_size \(imageSize)") }
        if tubeletSize <= 0 || numFrames <= 0 || numFrames % tubeletSize != 0 { throw bad("tubelet_size", tubeletSize, "must divide num_frames \(numFrames)") }
        if hiddenSize <= 0 || numHiddenLayers <= 0 || numChannels <= 0 || intermediateSize <= 0 {
            throw bad("hidden_size/num_hidden_layers/num_channels/intermediate_size", (hiddenSize, numHiddenLayers, numChannels, intermediateSize), "must be positive")
        }
        if numAttentionHeads <= 0 || hiddenSize % numAttentionHeads != 0 { throw bad("num_attention_heads", numAttentionHeads, "must divide hidden_size \(hiddenSize)") }
        if !qkvBias { throw bad("qkv_bias", qkvBias, "only VideoMAE's q/v biases are supported") }
        if numLabels < 0 { throw bad("num_labels", numLabels, "must be ≥ 0") }
        if !(0..<1).contains(dropPathRate) { throw bad("drop_path_rate", dropPathRate, "must be in [0, 1)") }
        if !(layerNormEps > 0) || !(fcNormEps > 0) { throw bad("layer_norm_eps", layerNormEps, "must be positive") }
        if let layerScaleInit, !layerScaleInit.isFinite { throw bad("layerscale_value", layerScaleInit, "must be finite") }
        if !temporalPositionScale.isFinite || temporalPositionScale < 0 { throw bad("temporal_position_scale", temporalPositionScale, "must be finite and ≥ 0") }
    }

    /// The ViT configuration whose blocks VideoMAE's equal: every block is a timm ViT `Block`
    /// (norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2), so PEFT methods reach it through
    /// the same sites. No class token; the grid is per frame pair.
    var blockConfig: VisionTransformerConfig {
        var c = VisionTransformerConfig()
        (c.imgSize, c.patchSize, c.inChans, c.embedDim, c.depth, c.numHeads) = (imageSize, patchSize, numChannels, hiddenSize, numHiddenLayers, numAttentionHeads)
        c.mlpRatio = Float(intermediateSize) / Float(hiddenSize)
        (c.qkvBias, c.classToken, c.globalPool, c.normEps, c.actLayer, c.numClasses) = (true, false, "avg", layerNormEps, hiddenAct, numLabels)
        c.initValues = layerScaleInit
        return c
    }

    /// VideoMAE ViT-B/16 as the released fine-tuning code builds it (every LayerNorm 1e-6).
    public static let base: VideoMAEConfig = {
        var c = VideoMAEConfig()
        c.fcNormEps = 1e-6
        return c
    }()
}

/// Where a VideoMAE model's position signal comes from.
public enum VideoPositionEmbedding: String, Codable, Sendable, CaseIterable {
    /// VideoMAE's fixed 1-D sinusoid over the flattened token index (t, h, w).
    case sinusoid
    /// A learned spatial table `pos_embed` [1, (H/p)(W/p), D] (an image model's, in an inflated
    /// model) added in every time slice, plus a fixed sinusoid over the time-slice index with its
    /// mean over the clip removed (`VideoMAE.temporalPositionTable`): without a temporal signal,
    /// tokens would carry no trace of their order, and mean pooling would make the model blind to
    /// time.
    case spatialLearnedTemporalSinusoid = "spatial_learned_temporal_sinusoid"
}
