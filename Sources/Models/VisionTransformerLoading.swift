import Checkpoints
import Foundation
import NN
import Tensor

extension VisionTransformer {
    /// A model as the CLI's `--model`/`--weights` name it: `model` is a preset, a hub folder or
    /// a config.json; `weights` (any supported format) overrides the folder's
    /// model.safetensors. Without weights the model keeps its random init.
    ///
    /// With `numClasses` given and different from the checkpoint's head, the head is
    /// re-initialised (fine-tuning); otherwise every tensor must match (strict).
    public static func load(model: String, weights: URL? = nil, imgSize: Int? = nil, numClasses: Int? = nil,
                            seed: UInt64 = 0) throws -> VisionTransformer {
        let source = try ModelSource.resolve(model, imgSize: imgSize, numClasses: numClasses)
        let vit = try VisionTransformer(source.config, seed: seed)
        vit.preprocessing = source.preprocessing
        if let url = weights ?? source.defaultWeights {
            try vit.loadCheckpoint(url, newHead: numClasses != nil)
        }
        return vit
    }

    /// Loads a checkpoint file (safetensors, Google npz, PyTorch pth) into this model.
    /// `newHead`: a head in the checkpoint that does not fit is left out (the model's own head
    /// stays, freshly initialised) instead of being an error.
    public func loadCheckpoint(_ url: URL, newHead: Bool = false) throws {
        let checkpoint = try Checkpoint.read(url).unwrapped()
        var state = checkpoint.format == .npz ? try GoogleViTNames.timmTensors(from: checkpoint.tensors, file: url.path) : checkpoint.tensors
        do {
            try loadPretrained(&state, newHead: newHead)
        } catch let mismatch as StateDictMismatch {
            throw ModelConfigError("\(url.path): \(mismatch)")
        }
    }

    /// Loads timm-named tensors: the position embedding is resampled to this model's grid when
    /// the checkpoint was trained at another size (by default timm's behaviour on
    /// `create_model(img_size=…)`; a checkpoint whose own graph resamples says how).
    public func loadPretrained(_ state: inout [String: Tensor], newHead: Bool = false,
                               posEmbedResampling: PositionEmbeddingResampling = .timm) throws {
        if let pos = state["pos_embed"], pos.shape != posEmbed.shape, pos.rank == 3, pos.shape[2] == posEmbed.shape[2] {
            state["pos_embed"] = try resamplePositionEmbedding(pos, prefixTokens: config.prefixTokens, newGrid: config.gridSize,
                                                               mode: posEmbedResampling)
        }
        let keepHead = newHead && droppingMismatchedHead(&state, head: head, prefix: "head")
        try load(state, strict: true, keepOwn: { keepHead && $0.hasPrefix("head.") })
    }
}
