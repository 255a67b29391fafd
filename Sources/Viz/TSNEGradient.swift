import Tensor

/// The t-SNE cost gradient with respect to the embedding, written as in van der Maaten's
/// reference code (no factor 4; the learning rate of 200 assumes that):
///     ∂C/∂y_i = Σ_j (e·p_ij − q_ij/Z) · q_ij · (y_i − y_j),   q_ij = 1 / (1 + ‖y_i − y_j‖²), Z = Σ q,
/// with e the early-exaggeration factor. Exact: all pairs. Barnes-Hut: the attractive sum over
/// P's sparse neighbours, the repulsive sum from the quadtree. Points are split across threads;
/// each point's sums run in a fixed order, so the result is identical on every run.
enum TSNEGradient {
    static func exact(p: [Double], y: [Double], exaggeration: Double, into gradient: inout [Double]) {
        let n = y.count / 2
        var q = [Double](repeating: 0, count: n * n)
        var rowZ = [Double](repeating: 0, count: n)
        q.withUnsafeMutableBufferPointer { q in
            rowZ.withUnsafeMutableBufferPointer { rowZ in
                y.withUnsafeBufferPointer { y in
                    Parallel.chunks(n, grain: 16) { rows in
                        for i in rows {
                            var z = 0.0
                            for j in 0..<n where j != i {
                                let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                                let value = 1 / (1 + dx * dx + dy * dy)
                                q[i * n + j] = value
                                z += value
                            }
                            rowZ[i] = z
                        }
                    }
                }
            }
        }
        let z = rowZ.reduce(0, +)
        q.withUnsafeBufferPointer { q in
            p.withUnsafeBufferPointer { p in
                y.withUnsafeBufferPointer { y in
                    gradient.withUnsafeMutableBufferPointer { g in
                        Parallel.chunks(n, grain: 16) { rows in
                            for i in rows {
                                var gx = 0.0, gy = 0.0
                                for j in 0..<n where j != i {
                                    let qij = q[i * n + j]
                                    let multiplier = (exaggeration * p[i * n + j] - qij / z) * qij
                                    gx += multiplier * (y[2 * i] - y[2 * j])
                                    gy += multiplier * (y[2 * i + 1] - y[2 * j + 1])
                                }
                                g[2 * i] = gx
                                g[2 * i + 1] = gy
                            }
                        }
                    }
                }
            }
        }
    }

    static func barnesHut(rowStart: [Int], columns: [Int], values: [Double], y: [Double], theta: Double,
                          exaggeration: Double, into gradient: inout [Double]) {
        let n = y.count / 2
        var repulsive = [Double](repeating: 0, count: 2 * n)
        var pointZ = [Double](repeating: 0, count: n)
        y.withUnsafeBufferPointer { y in
            let tree = BarnesHutTree(points: y)
            repulsive.withUnsafeMutableBufferPointer { repulsive in
                pointZ.withUnsafeMutableBufferPointer { pointZ in
                    gradient.withUnsafeMutableBufferPointer { g in
                        Parallel.chunks(n, grain: 32) { rows in
                            var stack: [Int] = []
                            for i in rows {
                                let (fx, fy, z) = tree.repulsion(on: i, x: y[2 * i], y: y[2 * i + 1], theta: theta, stack: &stack)
                                repulsive[2 * i] = fx
                                repulsive[2 * i + 1] = fy
                                pointZ[i] = z
                                var ax = 0.0, ay = 0.0
                                for entry in rowStart[i]..<rowStart[i + 1] {
                                    let j = columns[entry]
                                    let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                                    let weight = exaggeration * values[entry] / (1 + dx * dx + dy * dy)
                                    ax += weight * dx
                                    ay += weight * dy
                                }
                                g[2 * i] = ax
                                g[2 * i + 1] = ay
                            }
                        }
                    }
                }
            }
        }
        let z = pointZ.reduce(0, +)
        for k in 0..<(2 * n) { gradient[k] -= repulsive[k] / z }
    }
}
