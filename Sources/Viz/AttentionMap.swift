/// A grid of attention weights over image patches (e.g. 14 × 14 for ViT-B/16 at 224 px: the
/// class token's attention to each patch), row-major, top row first.
public struct AttentionMap: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows > 0 && columns > 0 && values.count == rows * columns,
                     "AttentionMap: \(values.count) values do not fill a \(rows)×\(columns) grid")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(row: Int, column: Int) -> Float { values[row * columns + column] }

    /// Rescaled to [0, 1] by min–max, so maps from different methods use the whole colour
    /// range (an overlay shows *where* attention goes, not its absolute level). A constant map
    /// becomes all zeros.
    public func normalised() -> AttentionMap {
        let low = values.min()!, high = values.max()!
        guard high > low else { return AttentionMap(rows: rows, columns: columns, values: values.map { _ in 0 }) }
        return AttentionMap(rows: rows, columns: columns, values: values.map { ($0 - low) / (high - low) })
    }

    /// Bilinear resampling to `width` × `height`, treating each weight as the value at its
    /// patch's centre (half-pixel convention, like `align_corners=False`); beyond the outer
    /// centres the edge value holds.
    public func upsampled(width: Int, height: Int) -> [Float] {
        var out = [Float](repeating: 0, count: width * height)
        let scaleX = Double(columns) / Double(width), scaleY = Double(rows) / Double(height)
        for y in 0..<height {
            let sy = min(max((Double(y) + 0.5) * scaleY - 0.5, 0), Double(rows - 1))
            let y0 = Int(sy), y1 = min(y0 + 1, rows - 1)
            let fy = Float(sy - Double(y0))
            for x in 0..<width {
                let sx = min(max((Double(x) + 0.5) * scaleX - 0.5, 0), Double(columns - 1))
                let x0 = Int(sx), x1 = min(x0 + 1, columns - 1)
                let fx = Float(sx - Double(x0))
                let top = self[y0, x0] * (1 - fx) + self[y0, x1] * fx
                let bottom = self[y1, x0] * (1 - fx) + self[y1, x1] * fx
                out[y * width + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }
}
