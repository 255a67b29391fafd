import Foundation
import Tensor

/// Google's ViT checkpoints (the original `vision_transformer` `.npz` files such as
/// `ViT-B_16.npz`, JAX/Flax names and layouts) mapped onto timm's `VisionTransformer` names and
/// PyTorch layouts, as in docs/protocols.md ("Google .npz → timm names"), for any depth, width
/// and head count:
///
/// | Google (after an optional `opt/target/` prefix) | timm |
/// |---|---|
/// | `embedding/kernel` (P,P,C,D) HWIO | `patch_embed.proj.weight` (D,C,P,P) OIHW; `embedding/bias` → `.bias` |
/// | `cls` (1,1,D) | `cls_token` |
/// | `Transformer/posembed_input/pos_embedding` (1,N,D) | `pos_embed` |
/// | `…/encoderblock_i/LayerNorm_0`, `LayerNorm_2` `{scale,bias}` | `blocks.i.norm1`, `norm2` `{weight,bias}` |
/// | `…/MultiHeadDotProductAttention_1/{query,key,value}/kernel` (D,H,Dh), biases (H,Dh) | `blocks.i.attn.qkv` (3D,D), (3D): q,k,v stacked |
/// | `…/MultiHeadDotProductAttention_1/out/kernel` (H,Dh,D) | `blocks.i.attn.proj.weight` (D,D) |
/// | `…/MlpBlock_3/Dense_0`, `Dense_1` (kernels (in,out)) | `blocks.i.mlp.fc1`, `fc2` (weights (out,in)) |
/// | `Transformer/encoder_norm` | `norm` |
/// | `head/{kernel,bias}` | `head.{weight,bias}` — kept, so a pre-trained head can be used; callers drop it for transfer |
/// | `pre_logits/*` | ignored (the transfer protocol has no pre-logits layer) |
///
/// Any other tensor is an error: silently dropping weights would make a different model.
public enum GoogleViTNames {
    public static let optimizerPrefix = "opt/target/"

    /// The timm-named tensors for a Google ViT checkpoint's tensors; `file` names it in errors.
    public static func timmTensors(from google: [String: Tensor], file: String) throws -> [String: Tensor] {
        var source = try GoogleTensors(file: file, tensors: google)
        var timm: [String: Tensor] = [:]

        let patchKernel = try source.take("embedding/kernel", rank: 4)  // (P, P, C, D)
        let width = patchKernel.shape[3]
        timm["patch_embed.proj.weight"] = patchKernel.permuted([3, 2, 0, 1])
        timm["patch_embed.proj.bias"] = try source.take("embedding/bias", shape: [width])
        timm["cls_token"] = try source.take("cls", shape: [1, 1, width])
        let positions = try source.take("Transformer/posembed_input/pos_embedding", rank: 3)
        try source.check(positions, "Transformer/posembed_input/pos_embedding", shape: [1, positions.shape[1], width])
        timm["pos_embed"] = positions
        timm["norm.weight"] = try source.take("Transformer/encoder_norm/scale", shape: [width])
        timm["norm.bias"] = try source.take("Transformer/encoder_norm/bias", shape: [width])

        var depth = 0
        while source.has("Transformer/encoderblock_\(depth)/LayerNorm_0/scale") { depth += 1 }
        for block in 0..<depth {
            let g = "Transformer/encoderblock_\(block)/", t = "blocks.\(block)."
            timm[t + "norm1.weight"] = try source.take(g + "LayerNorm_0/scale", shape: [width])
            timm[t + "norm1.bias"] = try source.take(g + "LayerNorm_0/bias", shape: [width])
            timm[t + "norm2.weight"] = try source.take(g + "LayerNorm_2/scale", shape: [width])
            timm[t + "norm2.bias"] = try source.take(g + "LayerNorm_2/bias", shape: [width])

            let attention = g + "MultiHeadDotProductAttention_1/"
            let query = try source.take(attention + "query/kernel", rank: 3)  // (D, H, Dh)
            let (heads, headWidth) = (query.shape[1], query.shape[2])
            try source.check(query, attention + "query/kernel", shape: [width, heads, headWidth])
            var weights: [Tensor] = [], biases: [Tensor] = []
            for part in ["query", "key", "value"] {
                let kernel = part == "query" ? query : try source.take(attention + part + "/kernel", shape: [width, heads, headWidth])
                weights.append(kernel.reshaped([width, heads * headWidth]).transposed(0, 1))
                biases.append(try source.take(attention + part + "/bias", shape: [heads, headWidth]).reshaped([heads * headWidth]))
            }
            timm[t + "attn.qkv.weight"] = concat(weights, dim: 0)
            timm[t + "attn.qkv.bias"] = concat(biases, dim: 0)
            timm[t + "attn.proj.weight"] = try source.take(attention + "out/kernel", shape: [heads, headWidth, width])
                .reshaped([heads * headWidth, width]).transposed(0, 1)
            timm[t + "attn.proj.bias"] = try source.take(attention + "out/bias", shape: [width])

            let hiddenKernel = try source.take(g + "MlpBlock_3/Dense_0/kernel", rank: 2)  // (D, M)
            let hidden = hiddenKernel.shape[1]
            try source.check(hiddenKernel, g + "MlpBlock_3/Dense_0/kernel", shape: [width, hidden])
            timm[t + "mlp.fc1.weight"] = hiddenKernel.transposed(0, 1)
            timm[t + "mlp.fc1.bias"] = try source.take(g + "MlpBlock_3/Dense_0/bias", shape: [hidden])
            timm[t + "mlp.fc2.weight"] = try source.take(g + "MlpBlock_3/Dense_1/kernel", shape: [hidden, width]).transposed(0, 1)
            timm[t + "mlp.fc2.bias"] = try source.take(g + "MlpBlock_3/Dense_1/bias", shape: [width])
        }

        if source.has("head/kernel") {
            let head = try source.take("head/kernel", rank: 2)  // (D, classes)
            try source.check(head, "head/kernel", shape: [width, head.shape[1]])
            timm["head.weight"] = head.transposed(0, 1)
            timm["head.bias"] = try source.take("head/bias", shape: [head.shape[1]])
        }
        source.drop(prefix: "pre_logits/")
        if let unexpected = source.remainingNames.first {
            throw TensorFileError(file: file, key: unexpected, "unexpected tensor for a ViT in Google's naming (\(source.remainingNames.count) left unmapped)")
        }
        return timm
    }
}

/// The Google-named tensors not yet mapped, with shape checks whose errors name the tensor.
private struct GoogleTensors {
    let file: String
    private var tensors: [String: Tensor]

    /// Strips the optimizer-state prefix that Flax training checkpoints put on every name.
    init(file: String, tensors: [String: Tensor]) throws {
        self.file = file
        self.tensors = [:]
        let prefix = GoogleViTNames.optimizerPrefix
        for (name, tensor) in tensors {
            let bare = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
            guard self.tensors.updateValue(tensor, forKey: bare) == nil else {
                throw TensorFileError(file: file, key: name, "appears both with and without the '\(prefix)' prefix")
            }
        }
    }

    var remainingNames: [String] { tensors.keys.sorted() }

    func has(_ name: String) -> Bool { tensors[name] != nil }

    mutating func take(_ name: String, rank: Int) throws -> Tensor {
        guard let tensor = tensors.removeValue(forKey: name) else { throw TensorFileError(file: file, key: name, "missing from the Google ViT checkpoint") }
        guard tensor.rank == rank else { throw TensorFileError(file: file, key: name, "has shape \(tensor.shape), expected \(rank) dimensions") }
        return tensor
    }

    mutating func take(_ name: String, shape: [Int]) throws -> Tensor {
        let tensor = try take(name, rank: shape.count)
        try check(tensor, name, shape: shape)
        return tensor
    }

    func check(_ tensor: Tensor, _ name: String, shape: [Int]) throws {
        guard tensor.shape == shape else { throw TensorFileError(file: file, key: name, "has shape \(tensor.shape), expected \(shape)") }
    }

    mutating func drop(prefix: String) {
        tensors = tensors.filter { !$0.key.hasPrefix(prefix) }
    }
}
