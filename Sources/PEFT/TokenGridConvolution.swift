import Models
import Tensor

extension TokenGrid {
    /// Runs `convolve` ([B', C, h, w] → [B', C', h, w]) over the patch tokens of `tokens`
    /// [B, N, C] as images — each grid its own image (a video backbone's patch tokens are one grid
    /// per time step, in a row) — and over each prefix token (class, register) as a 1×1 image, where
    /// only a kernel's centre tap acts; returns the tokens [B, N, C'] in their order. Convpass and
    /// Mona mix their bottleneck features so.
    func convolvingTokens(_ tokens: Tensor, method: String, _ convolve: (Tensor) -> Tensor) -> Tensor {
        let (b, n, c) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
        let grids = (n - prefixTokens) / area
        precondition(grids >= 1 && n == prefixTokens + grids * area, "\(method): \(n) tokens do not form \(prefixTokens) + k·\(height)×\(width)")
        let maps = tokens.narrowed(1, start: prefixTokens, length: grids * area).reshaped([b * grids, height, width, c]).permuted([0, 3, 1, 2])
        let mixed = convolve(maps)
        var parts = [mixed.permuted([0, 2, 3, 1]).reshaped([b, grids * area, mixed.shape[1]])]
        if prefixTokens > 0 {
            let prefix = convolve(tokens.narrowed(1, start: 0, length: prefixTokens).reshaped([b * prefixTokens, c, 1, 1]))
            parts.insert(prefix.reshaped([b, prefixTokens, prefix.shape[1]]), at: 0)
        }
        return concat(parts, dim: 1)
    }
}
