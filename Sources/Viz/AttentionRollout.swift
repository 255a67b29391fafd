import Tensor

/// Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020):
/// how much each output token draws on each input token through all layers, accounting for
/// the residual path. Per layer: average the heads, add the identity (the residual), renormalise
/// each row to sum to 1; then multiply the layers' matrices, last layer on the left:
///     R = Â_L · … · Â_2 · Â_1.
public enum AttentionRollout {
    /// The same from the backbone's attention probabilities: one tensor per layer, shaped
    /// [heads, N, N] or [1, heads, N, N] (a batch of one image).
    public static func rollout(layers: [Tensor]) -> [[Float]] {
        rollout(layers.map { layer in
            let shape = layer.rank == 4 && layer.shape[0] == 1 ? Array(layer.shape.dropFirst()) : layer.shape
            precondition(shape.count == 3 && shape[1] == shape[2], "AttentionRollout: expected [heads, N, N], got \(layer.shape)")
            let (heads, n) = (shape[0], shape[1])
            return (0..<heads).map { h in (0..<n).map { i in (0..<n).map { j in layer.data[(h * n + i) * n + j] } } }
        })
    }

    /// `attention[l][h]` is layer l, head h: an N × N row-stochastic matrix (query rows, key
    /// columns). Returns R (N × N).
    public static func rollout(_ attention: [[[[Float]]]]) -> [[Float]] {
        precondition(!attention.isEmpty && attention.allSatisfy { !$0.isEmpty }, "AttentionRollout: need at least one layer with one head")
        let n = attention[0][0].count
        precondition(attention.allSatisfy { layer in layer.allSatisfy { $0.count == n && $0.allSatisfy { $0.count == n } } },
                     "AttentionRollout: every head must be \(n)×\(n)")
        var result: [[Double]]?
        for layer in attention {
            var mixed = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for head in layer {
                for i in 0..<n { for j in 0..<n { mixed[i][j] += Double(head[i][j]) / Double(layer.count) } }
            }
            for i in 0..<n {
                mixed[i][i] += 1
                let sum = mixed[i].reduce(0, +)
                mixed[i] = mixed[i].map { $0 / sum }
            }
            result = result.map { multiply(mixed, $0) } ?? mixed
        }
        return result!.map { $0.map { Float($0) } }
    }

    /// Row `token` of a rollout (by default the class token, 0) over the patch tokens, as a
    /// patch grid. `prefixTokens` counts the tokens before the patches (class token, register
    /// or distillation tokens), which are left out.
    public static func patchMap(_ rollout: [[Float]], rows: Int, columns: Int, token: Int = 0, prefixTokens: Int = 1) -> AttentionMap {
        precondition(rollout.count == prefixTokens + rows * columns,
                     "AttentionRollout.patchMap: \(rollout.count) tokens ≠ \(prefixTokens) prefix + \(rows)×\(columns) patches")
        return AttentionMap(rows: rows, columns: columns, values: Array(rollout[token][prefixTokens...]))
    }

    private static func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        let n = a.count
        var c = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for k in 0..<n where a[i][k] != 0 {
                let aik = a[i][k]
                for j in 0..<n { c[i][j] += aik * b[k][j] }
            }
        }
        return c
    }
}
