/// A quadtree over the current 2-D embedding, for Barnes-Hut t-SNE: the repulsion a point feels
/// from a far-away cell is approximated by the cell's centre of mass times its point count, so a
/// gradient costs O(n log n) instead of O(n²). Rebuilt every iteration (the points move).
/// Nodes live in one flat array (the 4 children of a node are consecutive) so building and
/// walking the tree allocate nothing per node.
struct BarnesHutTree {
    private struct Node {
        var centerX: Double
        var centerY: Double
        var halfWidth: Double
        var massX = 0.0        // sums of the points' coordinates; ÷ count = centre of mass
        var massY = 0.0
        var count = 0
        var firstChild = -1    // -1: a leaf
        var point = -1         // a leaf's point (for several coincident points, the first)

        init(centerX: Double, centerY: Double, halfWidth: Double) {
            self.centerX = centerX
            self.centerY = centerY
            self.halfWidth = halfWidth
        }

        var isLeaf: Bool { firstChild < 0 }

        mutating func add(x: Double, y: Double) {
            count += 1
            massX += x
            massY += y
        }

        func quadrant(x: Double, y: Double) -> Int {
            firstChild + (x < centerX ? 0 : 1) + (y < centerY ? 0 : 2)
        }
    }

    private var nodes: [Node] = []

    /// Deeper than this a cell stops splitting and keeps its points together (nearly coincident
    /// points would otherwise split it for ever).
    private static let maxDepth = 48

    /// `y` holds n points as x0, y0, x1, y1, ….
    init(points y: UnsafeBufferPointer<Double>) {
        let n = y.count / 2
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for i in 0..<n {
            minX = min(minX, y[2 * i]); maxX = max(maxX, y[2 * i])
            minY = min(minY, y[2 * i + 1]); maxY = max(maxY, y[2 * i + 1])
        }
        nodes.reserveCapacity(4 * n + 1)
        nodes.append(Node(centerX: (minX + maxX) / 2, centerY: (minY + maxY) / 2, halfWidth: max(maxX - minX, maxY - minY) / 2 + 1e-5))
        for i in 0..<n { insert(i, points: y) }
    }

    private mutating func insert(_ index: Int, points y: UnsafeBufferPointer<Double>) {
        let px = y[2 * index], py = y[2 * index + 1]
        var node = 0, depth = 0
        while true {
            if nodes[node].isLeaf {
                if nodes[node].count == 0 { nodes[node].point = index }
                let existing = nodes[node].point
                let sameSpot = y[2 * existing] == px && y[2 * existing + 1] == py
                if existing == index || sameSpot || depth >= Self.maxDepth {
                    nodes[node].add(x: px, y: py)
                    return
                }
                // Split; the leaf's points (one, or several coincident) move to a child as a block.
                let parent = nodes[node]
                nodes[node].firstChild = nodes.count
                nodes[node].point = -1
                let h = parent.halfWidth / 2
                for (dx, dy) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                    nodes.append(Node(centerX: parent.centerX + dx * h, centerY: parent.centerY + dy * h, halfWidth: h))
                }
                let child = nodes[node].quadrant(x: y[2 * existing], y: y[2 * existing + 1])
                nodes[child].point = existing
                nodes[child].count = parent.count
                nodes[child].massX = parent.massX
                nodes[child].massY = parent.massY
            }
            nodes[node].add(x: px, y: py)
            node = nodes[node].quadrant(x: px, y: py)
            depth += 1
        }
    }

    /// The repulsive part of point i's gradient, unnormalised: Σ_cells N_c·q²·(y_i − ȳ_c) and
    /// the cells' share of Z = Σ q, with q = 1 / (1 + ‖y_i − ȳ_c‖²). A cell is summarised when
    /// it is a leaf or its half-width / distance < θ (the reference code's criterion).
    func repulsion(on i: Int, x: Double, y: Double, theta: Double, stack: inout [Int]) -> (forceX: Double, forceY: Double, z: Double) {
        var forceX = 0.0, forceY = 0.0, z = 0.0
        stack.removeAll(keepingCapacity: true)
        stack.append(0)
        nodes.withUnsafeBufferPointer { nodes in
            while let index = stack.popLast() {
                let node = nodes[index]
                if node.count == 0 || (node.isLeaf && node.count == 1 && node.point == i) { continue }
                let count = Double(node.count)
                let dx = x - node.massX / count, dy = y - node.massY / count
                let distanceSquared = dx * dx + dy * dy
                if node.isLeaf || node.halfWidth < theta * distanceSquared.squareRoot() {
                    let q = 1 / (1 + distanceSquared)
                    let weight = count * q
                    z += weight
                    forceX += weight * q * dx
                    forceY += weight * q * dy
                } else {
                    for child in node.firstChild..<(node.firstChild + 4) { stack.append(child) }
                }
            }
        }
        return (forceX, forceY, z)
    }
}
