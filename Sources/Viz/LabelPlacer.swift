/// Puts point labels where they do not cover each other or the markers: for each label it tries
/// eight spots around its point (right first, where readers look), then the same eight twice as
/// far out, and takes the first whose box stays inside the plot and clear of everything already
/// placed; if none is clear, the spot overlapping least. Greedy and deterministic — good enough
/// for the dozens of labelled points a method comparison has.
struct LabelPlacer {
    private let bounds: CanvasRect
    private var occupied: [CanvasRect]

    init(bounds: CanvasRect, obstacles: [CanvasRect]) {
        self.bounds = bounds
        occupied = obstacles
    }

    /// Where to draw `text` near `point` at distance `gap` (pixels) from it, and with which
    /// style. `above` tries the spots above the point first (labels on lines, which a label
    /// beside the point would strike through).
    mutating func place(_ text: String, near point: CanvasPoint, gap: Double, scale: Int, color: RGBColor,
                        above: Bool = false) -> (CanvasPoint, TextStyle) {
        func ring(_ d: Double) -> [(CanvasPoint, TextAnchor, TextBaseline)] {
            let beside: [(CanvasPoint, TextAnchor, TextBaseline)] = [
                (CanvasPoint(x: point.x + d, y: point.y), .start, .middle),
                (CanvasPoint(x: point.x - d, y: point.y), .end, .middle),
            ]
            let over: [(CanvasPoint, TextAnchor, TextBaseline)] = [
                (CanvasPoint(x: point.x + d * 0.7, y: point.y - d * 0.7), .start, .bottom),
                (CanvasPoint(x: point.x - d * 0.7, y: point.y - d * 0.7), .end, .bottom),
                (CanvasPoint(x: point.x, y: point.y - d), .middle, .bottom),
            ]
            let under: [(CanvasPoint, TextAnchor, TextBaseline)] = [
                (CanvasPoint(x: point.x, y: point.y + d), .middle, .top),
                (CanvasPoint(x: point.x + d * 0.7, y: point.y + d * 0.7), .start, .top),
                (CanvasPoint(x: point.x - d * 0.7, y: point.y + d * 0.7), .end, .top),
            ]
            return above ? over + beside + under : beside + over + under
        }
        let candidates = ring(gap) + ring(2 * gap)
        var best: (position: CanvasPoint, style: TextStyle, box: CanvasRect, cost: Double)?
        for (position, anchor, baseline) in candidates {
            let style = TextStyle(scale: scale, color: color, anchor: anchor, baseline: baseline)
            let box = style.bounds(of: text, at: position).insetBy(-1)
            let cost = overlap(of: box) + (bounds.contains(box) ? 0 : 1e6)
            if cost == 0 { best = (position, style, box, 0); break }
            if best == nil || cost < best!.cost { best = (position, style, box, cost) }
        }
        occupied.append(best!.box)
        return (best!.position, best!.style)
    }

    private func overlap(of box: CanvasRect) -> Double {
        occupied.reduce(0) { total, other in
            let w = min(box.maxX, other.maxX) - max(box.minX, other.minX)
            let h = min(box.maxY, other.maxY) - max(box.minY, other.minY)
            return total + (w > 0 && h > 0 ? w * h : 0)
        }
    }
}
