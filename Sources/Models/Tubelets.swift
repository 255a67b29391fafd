import Tensor

/// A clip [B, T, C, H, W] (the layout Hugging Face's video processors give) cut into
/// non-overlapping tubelets of `t` frames × `p` × `p` pixels, T, H and W multiples of them:
/// [B, T/t, H/p, W/p, C·t·p·p], each row's values in a Conv3d weight's (C, t, p, p) order. A
/// Conv3d whose kernel equals its stride is then one linear map on these rows (its weight
/// [D, C, t, p, p] read as [D, C·t·p·p]) — how VideoMAE and Video Swin embed their patches.
func tubeletRows(_ clip: Tensor, tubelet t: Int, patch p: Int) -> Tensor {
    let (b, frames, c, h, w) = (clip.shape[0], clip.shape[1], clip.shape[2], clip.shape[3], clip.shape[4])
    precondition(frames % t == 0 && h % p == 0 && w % p == 0, "tubeletRows: clip \(clip.shape) is not whole \(t)×\(p)×\(p) tubelets")
    // [B, T/t, t, C, H/p, p, W/p, p] → [B, T/t, H/p, W/p, C, t, p, p]
    return clip.reshaped([b, frames / t, t, c, h / p, p, w / p, p]).permuted([0, 1, 4, 6, 3, 2, 5, 7])
        .reshaped([b, frames / t, h / p, w / p, c * t * p * p])
}
