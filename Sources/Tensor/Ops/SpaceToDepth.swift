/// The gather of Swin's PatchMerging: every 2×2 neighbourhood of a channels-last map
/// [B, H, W, C] becomes one position with its four vectors concatenated, [B, H/2, W/2, 4C], in
/// the order x(2i, 2j), x(2i+1, 2j), x(2i, 2j+1), x(2i+1, 2j+1) — what timm's
/// `reshape(B, H/2, 2, W/2, 2, C).permute(0, 1, 3, 4, 2, 5).flatten(3)` and the original
/// implementation's `cat([x0, x1, x2, x3])` produce, so the reduction weights of both load as
/// they are. A permutation of C-vectors: the gradient moves them back.

/// [B, H, W, C] (H, W even) → [B, H/2, W/2, 4C].
public func spaceToDepth2x2(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0,
                 "spaceToDepth2x2: \(x.shape) is not [B, H, W, C] with even H and W (pad first)")
    let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: [b, h / 2, w / 2, 4 * c])
    moveNeighbourhoods(batch: b, height: h, width: w, channels: c, map: x.data, merged: out.data, toMerged: true)
    if Tensor.needsGraph([x]) {
        out.record("space_to_depth_2x2", [x]) { g in
            let dx = Tensor(uninitializedShape: [b, h, w, c])
            moveNeighbourhoods(batch: b, height: h, width: w, channels: c, map: dx.data, merged: g.data, toMerged: false)
            return [dx]
        }
    }
    return out
}

/// Copies every C-vector between the map and its slot in the merged layout, in either direction.
private func moveNeighbourhoods(batch b: Int, height h: Int, width w: Int, channels c: Int,
                                map: UnsafeMutablePointer<Float>, merged: UnsafeMutablePointer<Float>, toMerged: Bool) {
    let (ho, wo) = (h / 2, w / 2)
    Parallel.chunks(b * ho, grain: Swift.max(1, 16_384 / Swift.max(4 * wo * c, 1))) { range in
        for row in range {
            let (image, i) = row.quotientAndRemainder(dividingBy: ho)
            for j in 0..<wo {
                let slot = merged + (row * wo + j) * 4 * c
                // Slot k = 2·dx + dy holds x(2i + dy, 2j + dx).
                for k in 0..<4 {
                    let (dy, dx) = (k % 2, k / 2)
                    let source = map + ((image * h + 2 * i + dy) * w + 2 * j + dx) * c
                    if toMerged { (slot + k * c).update(from: source, count: c) } else { source.update(from: slot + k * c, count: c) }
                }
            }
        }
    }
}
