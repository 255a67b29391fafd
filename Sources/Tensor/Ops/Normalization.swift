import Foundation

/// LayerNorm over the last axis, as `nn.LayerNorm(d, eps)`; `weight`/`bias` may be nil.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    let d = x.shape.last ?? 1
    if let weight { precondition(weight.shape == [d], "layerNorm: weight \(weight.shape) != [\(d)] for input \(x.shape)") }
    if let bias { precondition(bias.shape == [d], "layerNorm: bias \(bias.shape) != [\(d)] for input \(x.shape)") }
    let rows = x.count / max(d, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let normalised = Tensor(uninitializedShape: x.shape)
    let rstd = Tensor(uninitializedShape: [rows])
    let src = x.data, dst = out.data, xhat = normalised.data, rs = rstd.data
    let w = weight?.data, b = bias?.data
    Parallel.chunks(rows, grain: max(1, 16_384 / max(d, 1))) { range in
        for r in range {
            let p = src + r * d, q = dst + r * d, h = xhat + r * d
            let mean = sumContiguous(p, d) / Float(d)
            var acc: Float = 0
            for j in 0..<d { let c = p[j] - mean; acc += c * c }
            let inv = 1 / (acc / Float(d) + eps).squareRoot()
            rs[r] = inv
            for j in 0..<d {
                let n = (p[j] - mean) * inv
                h[j] = n
                q[j] = n * (w?[j] ?? 1) + (b?[j] ?? 0)
            }
        }
    }
    if Tensor.needsGraph([x, weight, bias]) {
        let needX = x.requiresGrad, needW = weight?.requiresGrad == true, needB = bias?.requiresGrad == true
        let keptHat: Tensor? = needX || needW ? normalised : nil
        let keptW = needX ? weight?.detached() : nil
        let keptRstd = needX ? rstd : nil
        out.record("layer_norm", [x, weight, bias]) { g in
            var gx: Tensor?
            if needX, let keptHat, let keptRstd {
                let t = Tensor(uninitializedShape: keptHat.shape)
                let gs = g.data, hs = keptHat.data, ws = keptW?.data, ds = t.data, rsd = keptRstd.data
                Parallel.chunks(rows, grain: max(1, 16_384 / max(d, 1))) { range in
                    for r in range {
                        let gp = gs + r * d, hp = hs + r * d, dp = ds + r * d
                        var sumG: Float = 0, sumGH: Float = 0
                        for j in 0..<d {
                            let gh = gp[j] * (ws?[j] ?? 1)
                            sumG += gh
                            sumGH += gh * hp[j]
                        }
                        let meanG = sumG / Float(d), meanGH = sumGH / Float(d), inv = rsd[r]
                        for j in 0..<d { dp[j] = inv * (gp[j] * (ws?[j] ?? 1) - meanG - hp[j] * meanGH) }
                    }
                }
                gx = t
            }
            let gw = needW ? (g * keptHat!).reshaped([rows, d]).sum(dims: [0]) : nil
            let gb = needB ? g.reshaped([rows, d]).sum(dims: [0]) : nil
            return [gx, gw, gb]
        }
    }
    return out
}

/// BatchNorm in inference form over axis 1 of an NCHW (or NC) tensor, with running statistics:
/// `(x − mean) / √(var + eps) · weight + bias`. Running statistics get no gradient.
public func batchNormInference(_ x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank >= 2, "batchNorm: input must be [N, C, …], got \(x.shape)")
    let c = x.shape[1]
    for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
        if let t { precondition(t.shape == [c], "batchNorm: \(name) \(t.shape) != [\(c)] for input \(x.shape)") }
    }
    let n = x.shape[0], spatial = x.count / max(n * c, 1)
    var invStd = [Float](repeating: 0, count: c), scale = invStd, shift = invStd
    for ch in 0..<c {
        invStd[ch] = 1 / (runningVar.data[ch] + eps).squareRoot()
        scale[ch] = invStd[ch] * (weight?.data[ch] ?? 1)
        shift[ch] = (bias?.data[ch] ?? 0) - runningMean.data[ch] * scale[ch]
    }
    let out = Tensor(uninitializedShape: x.shape)
    let src = x.data, dst = out.data
    Parallel.chunks(n * c, grain: max(1, 16_384 / max(spatial, 1))) { range in
        for plane in range {
            let s = scale[plane % c], b = shift[plane % c]
            let p = src + plane * spatial, q = dst + plane * spatial
            for i in 0..<spatial { q[i] = p[i] * s + b }
        }
    }
    if Tensor.needsGraph([x, weight, bias]) {
        let needX = x.requiresGrad, needW = weight?.requiresGrad == true, needB = bias?.requiresGrad == true
        let keptX = needW ? x.detached() : nil
        let mean = runningMean.scalars
        out.record("batch_norm", [x, weight, bias]) { g in
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needX {
                let t = Tensor(uninitializedShape: g.shape)
                let gs = g.data, ds = t.data
                Parallel.chunks(n * c, grain: max(1, 16_384 / max(spatial, 1))) { range in
                    for plane in range {
                        let s = scale[plane % c], p = gs + plane * spatial, q = ds + plane * spatial
                        for i in 0..<spatial { q[i] = p[i] * s }
                    }
                }
                gx = t
            }
            if needW || needB {
                // Parallel over channels, samples in order within a channel (deterministic sums).
                let sw = Tensor.zeros([c]), sb = Tensor.zeros([c])
                let gs = g.data, xs = keptX?.data, swp = sw.data, sbp = sb.data
                Parallel.chunks(c, grain: max(1, 16_384 / max(n * spatial, 1))) { channels in
                    for ch in channels {
                        var accB: Float = 0, accW: Float = 0
                        for s in 0..<n {
                            let p = gs + (s * c + ch) * spatial
                            accB += sumContiguous(p, spatial)
                            if let xs { accW += centredDot(p, xs + (s * c + ch) * spatial, mean[ch], spatial) }
                        }
                        sbp[ch] = accB
                        swp[ch] = accW * invStd[ch]
                    }
                }
                if needW { gw = sw }
                if needB { gb = sb }
            }
            return [gx, gw, gb]
        }
    }
    return out
}

/// Σ g[i]·(x[i] − m), in 16 lanes then the tail.
private func centredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ m: Float, _ n: Int) -> Float {
    var acc = Vec(repeating: 0)
    let mv = Vec(repeating: m)
    var i = 0
    while i + 16 <= n {
        acc += UnsafeRawPointer(g + i).loadUnaligned(as: Vec.self) * (UnsafeRawPointer(x + i).loadUnaligned(as: Vec.self) - mv)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += g[i] * (x[i] - m); i += 1 }
    return s
}
