/// Splits a polyline into the visible pieces of a dash pattern, continuing the pattern across
/// vertices so dashes look even along curves made of many short segments.
enum DashPattern {
    static func segments(of points: [CanvasPoint], dash: [Double]?) -> [(CanvasPoint, CanvasPoint)] {
        guard points.count >= 2 else { return [] }
        let pairs = zip(points, points.dropFirst()).map { ($0, $1) }
        guard let dash, !dash.isEmpty, dash.allSatisfy({ $0 > 0 }) else { return pairs }
        var pieces: [(CanvasPoint, CanvasPoint)] = []
        var index = 0, remaining = dash[0], drawing = true
        for (a, b) in pairs {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            var travelled = 0.0
            while travelled < length {
                let step = min(remaining, length - travelled)
                if drawing {
                    let t0 = travelled / length, t1 = (travelled + step) / length
                    pieces.append((CanvasPoint(x: a.x + (b.x - a.x) * t0, y: a.y + (b.y - a.y) * t0),
                                   CanvasPoint(x: a.x + (b.x - a.x) * t1, y: a.y + (b.y - a.y) * t1)))
                }
                travelled += step
                remaining -= step
                if remaining <= 1e-9 {
                    index = (index + 1) % dash.count
                    remaining = dash[index]
                    drawing.toggle()
                }
            }
        }
        return pieces
    }
}
