/// Kronecker product of two matrices: (a ⊗ b)[i·p + k, j·q + l] = a[i, j] · b[k, l].
public func kron(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "kron: needs two matrices, got \(a.shape) and \(b.shape)")
    let (m, n, p, q) = (a.shape[0], a.shape[1], b.shape[0], b.shape[1])
    let out = Tensor(uninitializedShape: [m * p, n * q])
    let cols = n * q
    for i in 0..<m { for j in 0..<n {
        let aij = a.data[i * n + j]
        for k in 0..<p {
            let row = out.data + (i * p + k) * cols + j * q, br = b.data + k * q
            for l in 0..<q { row[l] = aij * br[l] }
        }
    } }
    if Tensor.needsGraph([a, b]) {
        let ka = b.requiresGrad ? a.detached() : nil, kb = a.requiresGrad ? b.detached() : nil
        out.record("kron", [a, b]) { g in
            let ga = kb.map { _ in Tensor.zeros([m, n]) }, gb = ka.map { _ in Tensor.zeros([p, q]) }
            for i in 0..<m { for j in 0..<n { for k in 0..<p {
                let row = g.data + (i * p + k) * cols + j * q
                for l in 0..<q {
                    if let ga, let kb { ga.data[i * n + j] += row[l] * kb.data[k * q + l] }
                    if let gb, let ka { gb.data[k * q + l] += row[l] * ka.data[i * n + j] }
                }
            } } }
            return [ga, gb]
        }
    }
    return out
}
