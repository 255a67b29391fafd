import Tensor

/// Resamples a ViT position embedding [1, prefix + h·w, D] to another square grid, as timm's
/// `resample_abs_pos_embed`: prefix (class) tokens kept, the grid resized bicubically with
/// antialiasing (PIL-style cubic, A = −0.5).
public func resamplePositionEmbedding(_ posEmbed: Tensor, prefixTokens: Int, newGrid: Int) throws -> Tensor {
    let (n, d) = (posEmbed.shape[1], posEmbed.shape[2])
    let oldGrid = Int(Double(n - prefixTokens).squareRoot().rounded())
    guard oldGrid * oldGrid == n - prefixTokens else {
        throw ModelConfigError("pos_embed has \(n - prefixTokens) patch positions, not a square grid (prefix tokens \(prefixTokens))")
    }
    if oldGrid == newGrid { return posEmbed }
    let prefix = posEmbed.narrowed(1, start: 0, length: prefixTokens)
    let grid = posEmbed.narrowed(1, start: prefixTokens, length: n - prefixTokens)
        .reshaped([1, oldGrid, oldGrid, d]).permuted([0, 3, 1, 2])
    let resized = resize(grid, to: (newGrid, newGrid), filter: .bicubic, antialias: true)
        .permuted([0, 2, 3, 1]).reshaped([1, newGrid * newGrid, d])
    return prefixTokens > 0 ? concat([prefix, resized], dim: 1) : resized
}
