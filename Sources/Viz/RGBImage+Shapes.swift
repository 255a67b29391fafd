import Foundation

/// Anti-aliased raster primitives. Pixel (i, j) covers the square [i, i+1) × [j, j+1), so a
/// shape's coverage of each pixel becomes the alpha it is blended with: edges look smooth and
/// thin lines keep their weight. Every primitive takes an optional clip rectangle (the plot
/// area) outside which it leaves pixels alone.
extension RGBImage {
    public mutating func fillRectangle(_ rect: CanvasRect, color: RGBColor, clip: CanvasRect? = nil) {
        let area = clip.map { intersection(rect, $0) } ?? rect
        guard area.width > 0, area.height > 0 else { return }
        let x0 = max(0, Int(area.minX.rounded(.down))), x1 = min(width - 1, Int(area.maxX.rounded(.up)) - 1)
        let y0 = max(0, Int(area.minY.rounded(.down))), y1 = min(height - 1, Int(area.maxY.rounded(.up)) - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            let coverY = min(area.maxY, Double(y + 1)) - max(area.minY, Double(y))
            for x in x0...x1 {
                let coverX = min(area.maxX, Double(x + 1)) - max(area.minX, Double(x))
                blend(x: x, y: y, color: color, alpha: coverX * coverY)
            }
        }
    }

    /// Straight strokes of the given width with round caps, e.g. the pieces of a (dashed)
    /// polyline. Each pixel's alpha is how far its centre lies inside the nearest stroke, ramped
    /// over one pixel; taking the nearest (not summing) keeps joints from darkening.
    public mutating func strokeSegments(_ segments: [(CanvasPoint, CanvasPoint)], width lineWidth: Double,
                                        color: RGBColor, clip: CanvasRect? = nil) {
        guard !segments.isEmpty else { return }
        let half = max(lineWidth, 1) / 2
        // Widths under one pixel are drawn one pixel wide but fainter, so hairlines stay visible.
        let strength = min(lineWidth, 1)
        let xs = segments.flatMap { [$0.0.x, $0.1.x] }, ys = segments.flatMap { [$0.0.y, $0.1.y] }
        let x0 = max(0, Int((xs.min()! - half - 1).rounded(.down))), x1 = min(width - 1, Int((xs.max()! + half + 1).rounded(.up)))
        let y0 = max(0, Int((ys.min()! - half - 1).rounded(.down))), y1 = min(height - 1, Int((ys.max()! + half + 1).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let boxWidth = x1 - x0 + 1
        var coverage = [Double](repeating: 0, count: boxWidth * (y1 - y0 + 1))
        for (a, b) in segments {
            let dx = b.x - a.x, dy = b.y - a.y
            let lengthSquared = dx * dx + dy * dy
            let sx0 = max(x0, Int((min(a.x, b.x) - half - 1).rounded(.down))), sx1 = min(x1, Int((max(a.x, b.x) + half + 1).rounded(.up)))
            let sy0 = max(y0, Int((min(a.y, b.y) - half - 1).rounded(.down))), sy1 = min(y1, Int((max(a.y, b.y) + half + 1).rounded(.up)))
            guard sx0 <= sx1, sy0 <= sy1 else { continue }
            for y in sy0...sy1 {
                for x in sx0...sx1 {
                    let px = Double(x) + 0.5, py = Double(y) + 0.5
                    let t = lengthSquared > 0 ? min(max(((px - a.x) * dx + (py - a.y) * dy) / lengthSquared, 0), 1) : 0
                    let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                    let c = min(max(half + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1)
                    let k = (y - y0) * boxWidth + (x - x0)
                    if c > coverage[k] { coverage[k] = c }
                }
            }
        }
        for y in y0...y1 {
            for x in x0...x1 {
                let c = coverage[(y - y0) * boxWidth + (x - x0)]
                guard c > 0 else { continue }
                if let clip, !clip.contains(CanvasPoint(x: Double(x) + 0.5, y: Double(y) + 0.5)) { continue }
                blend(x: x, y: y, color: color, alpha: c * strength)
            }
        }
    }

    public mutating func fillCircle(center: CanvasPoint, radius: Double, color: RGBColor, clip: CanvasRect? = nil) {
        let bounds = CanvasRect(x: center.x - radius - 1, y: center.y - radius - 1, width: 2 * radius + 2, height: 2 * radius + 2)
        fillCoverage(in: bounds, clip: clip, color: color) { px, py in
            let distance = ((px - center.x) * (px - center.x) + (py - center.y) * (py - center.y)).squareRoot()
            return min(max(radius + 0.5 - distance, 0), 1)
        }
    }

    /// A filled polygon (even–odd rule), anti-aliased by 4 × 4 samples per pixel.
    public mutating func fillPolygon(_ vertices: [CanvasPoint], color: RGBColor, clip: CanvasRect? = nil) {
        guard vertices.count >= 3 else { return }
        let xs = vertices.map(\.x), ys = vertices.map(\.y)
        let bounds = CanvasRect(x: xs.min()!, y: ys.min()!, width: xs.max()! - xs.min()!, height: ys.max()! - ys.min()!)
        fillCoverage(in: bounds, clip: clip, color: color) { px, py in
            var inside = 0
            for sy in 0..<4 {
                for sx in 0..<4 {
                    let qx = px - 0.5 + (Double(sx) + 0.5) / 4, qy = py - 0.5 + (Double(sy) + 0.5) / 4
                    if Self.polygon(vertices, contains: qx, qy) { inside += 1 }
                }
            }
            return Double(inside) / 16
        }
    }

    /// Blends `color` into every pixel of `bounds` (∩ clip ∩ image) with the alpha `coverage`
    /// returns for the pixel's centre.
    private mutating func fillCoverage(in bounds: CanvasRect, clip: CanvasRect?, color: RGBColor,
                                       coverage: (Double, Double) -> Double) {
        let area = clip.map { intersection(bounds, $0) } ?? bounds
        let x0 = max(0, Int(area.minX.rounded(.down))), x1 = min(width - 1, Int(area.maxX.rounded(.up)))
        let y0 = max(0, Int(area.minY.rounded(.down))), y1 = min(height - 1, Int(area.maxY.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                if let clip, !clip.contains(CanvasPoint(x: px, y: py)) { continue }
                blend(x: x, y: y, color: color, alpha: coverage(px, py))
            }
        }
    }

    private static func polygon(_ vertices: [CanvasPoint], contains x: Double, _ y: Double) -> Bool {
        var inside = false
        var j = vertices.count - 1
        for i in 0..<vertices.count {
            let a = vertices[i], b = vertices[j]
            if (a.y > y) != (b.y > y), x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    private func intersection(_ a: CanvasRect, _ b: CanvasRect) -> CanvasRect {
        let x0 = max(a.minX, b.minX), y0 = max(a.minY, b.minY)
        return CanvasRect(x: x0, y: y0, width: max(0, min(a.maxX, b.maxX) - x0), height: max(0, min(a.maxY, b.maxY) - y0))
    }
}
