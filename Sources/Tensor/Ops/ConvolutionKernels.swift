import Dispatch
import Foundation

/// The kernels behind `conv2d` (Convolution.swift):
///
/// * depthwise (groups = channels = outputs): each input plane is zero-padded once into a
///   scratch buffer, its columns split into `stride` phases (phase p holds padded columns
///   p, p + s, p + 2s, …), so that every tap (ky, kx) of an output row reads one contiguous
///   span: phase kx mod s, offset kx / s. The inner loops are plain multiply-adds over rows,
///   without bounds checks, which LLVM vectorises. The input gradient scatters the same way
///   into a padded, phased buffer (a transposed depthwise conv) and copies it back; the weight
///   gradient accumulates per-tap rows and is computed only when asked.
/// * everything else: per sample and group one `BLAS.gemm` of the weight by the im2col matrix,
///   or by the input itself for 1×1 stride-1 unpadded convolutions (no im2col, no col2im).
///   Samples run in parallel with BLAS single-threaded; the weight gradient is summed per chunk
///   of samples, then over chunks in order (deterministic for a given thread count).

// MARK: - Depthwise

/// Layout of one zero-padded, column-phased plane: `sw` phases × `hp` rows × `wq` columns.
struct DepthwisePlan {
    let geo: ConvGeometry
    /// Padded rows that any output reads: (ho − 1)·sh + kh.
    let hp: Int
    /// Columns per phase: wo + (kw − 1) / sw.
    let wq: Int

    init(_ geo: ConvGeometry) {
        self.geo = geo
        hp = (geo.ho - 1) * geo.sh + geo.kh
        wq = geo.wo + (geo.kw - 1) / geo.sw
    }

    var bufferCount: Int { geo.sw * hp * wq }

    /// Phase-`p` columns j in lo..<hi whose input column p + j·sw − left lies inside the image.
    @inline(__always) func columns(phase p: Int) -> (lo: Int, hi: Int) {
        let sw = geo.sw
        let a = geo.left - p
        let lo = a <= 0 ? 0 : (a + sw - 1) / sw
        let b = geo.w - 1 + geo.left - p
        let hi = b < 0 ? 0 : Swift.min(wq, b / sw + 1)
        return (Swift.min(lo, hi), hi)
    }

    /// The start of tap column `kx` in padded row `r`.
    @inline(__always) func tap(_ buf: UnsafeMutablePointer<Float>, row r: Int, kx: Int) -> UnsafeMutablePointer<Float> {
        buf + ((kx % geo.sw) * hp + r) * wq + kx / geo.sw
    }

    /// Copies one input plane (h × w) into `buf`, zero-padded and split into phases.
    func pad(_ src: UnsafePointer<Float>, into buf: UnsafeMutablePointer<Float>) {
        let sw = geo.sw
        for p in 0..<sw {
            let (lo, hi) = columns(phase: p)
            for r in 0..<hp {
                let row = buf + (p * hp + r) * wq
                let iy = r - geo.top
                if iy < 0 || iy >= geo.h || lo >= hi { row.initialize(repeating: 0, count: wq); continue }
                let s = src + iy * geo.w + p - geo.left
                if lo > 0 { row.initialize(repeating: 0, count: lo) }
                if sw == 1 {
                    (row + lo).update(from: s + lo, count: hi - lo)
                } else if sw == 2 {
                    for j in lo..<hi { row[j] = s[2 * j] }
                } else {
                    for j in lo..<hi { row[j] = s[j * sw] }
                }
                if hi < wq { (row + hi).initialize(repeating: 0, count: wq - hi) }
            }
        }
    }

    /// Writes the input-image part of a padded, phased gradient buffer into `dst` (h × w).
    func unpad(_ buf: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let sw = geo.sw
        let spans = (0..<sw).map { columns(phase: $0) }
        let covered = spans.reduce(0) { $0 + $1.hi - $1.lo }
        for iy in 0..<geo.h {
            let row = dst + iy * geo.w
            let r = iy + geo.top
            if r >= hp { row.initialize(repeating: 0, count: geo.w); continue }
            if covered < geo.w { row.initialize(repeating: 0, count: geo.w) }
            for p in 0..<sw {
                let (lo, hi) = spans[p]
                let s = buf + (p * hp + r) * wq
                let d = row + p - geo.left
                if sw == 1 {
                    (d + lo).update(from: s + lo, count: hi - lo)
                } else if sw == 2 {
                    for j in lo..<hi { d[2 * j] = s[j] }
                } else {
                    for j in lo..<hi { d[j * sw] = s[j] }
                }
            }
        }
    }

    /// One output plane: dst[oy, ox] = Σ_ky Σ_kx k[ky, kx] · padded[oy·sh + ky, ox·sw + kx]
    /// (summed in the order ky, kx, as the direct loop).
    func correlate(_ buf: UnsafeMutablePointer<Float>, _ k: UnsafePointer<Float>, bias: Float?, into dst: UnsafeMutablePointer<Float>) {
        let wo = geo.wo, kw = geo.kw
        for oy in 0..<geo.ho {
            let d = dst + oy * wo
            d.initialize(repeating: 0, count: wo)
            for ky in 0..<geo.kh {
                let r = oy * geo.sh + ky, kr = k + ky * kw
                switch kw {
                case 3:
                    taps3(d, tap(buf, row: r, kx: 0), tap(buf, row: r, kx: 1), tap(buf, row: r, kx: 2), kr[0], kr[1], kr[2], wo)
                case 5:
                    taps5(d, tap(buf, row: r, kx: 0), tap(buf, row: r, kx: 1), tap(buf, row: r, kx: 2), tap(buf, row: r, kx: 3),
                          tap(buf, row: r, kx: 4), kr, wo)
                default:
                    for kx in 0..<kw { axpy(d, tap(buf, row: r, kx: kx), kr[kx], wo) }
                }
            }
            if let bias { for i in 0..<wo { d[i] += bias } }
        }
    }

    /// Adds the transposed correlation of one output-gradient plane into `buf` (zeroed first).
    func scatter(_ g: UnsafePointer<Float>, _ k: UnsafePointer<Float>, into buf: UnsafeMutablePointer<Float>) {
        buf.initialize(repeating: 0, count: bufferCount)
        let wo = geo.wo, kw = geo.kw
        for oy in 0..<geo.ho {
            let grow = g + oy * wo
            for ky in 0..<geo.kh {
                let r = oy * geo.sh + ky
                for kx in 0..<kw { axpy(tap(buf, row: r, kx: kx), grow, k[ky * kw + kx], wo) }
            }
        }
    }

    /// acc[tap·wo + ox] += g[oy, ox] · padded[oy·sh + ky, ox·sw + kx] for every tap and row.
    func accumulateWeightGrad(_ g: UnsafePointer<Float>, _ buf: UnsafeMutablePointer<Float>, into acc: UnsafeMutablePointer<Float>) {
        let wo = geo.wo, kw = geo.kw
        for oy in 0..<geo.ho {
            let grow = g + oy * wo
            for ky in 0..<geo.kh {
                let r = oy * geo.sh + ky
                for kx in 0..<kw { multiplyAdd(acc + (ky * kw + kx) * wo, grow, tap(buf, row: r, kx: kx), wo) }
            }
        }
    }
}

@inline(__always) private func axpy(_ d: UnsafeMutablePointer<Float>, _ s: UnsafePointer<Float>, _ a: Float, _ n: Int) {
    for i in 0..<n { d[i] += a * s[i] }
}

@inline(__always) private func multiplyAdd(_ d: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { d[i] += a[i] * b[i] }
}

@inline(__always) private func taps3(_ d: UnsafeMutablePointer<Float>, _ s0: UnsafePointer<Float>, _ s1: UnsafePointer<Float>,
                                     _ s2: UnsafePointer<Float>, _ w0: Float, _ w1: Float, _ w2: Float, _ n: Int) {
    for i in 0..<n { d[i] = d[i] + w0 * s0[i] + w1 * s1[i] + w2 * s2[i] }
}

@inline(__always) private func taps5(_ d: UnsafeMutablePointer<Float>, _ s0: UnsafePointer<Float>, _ s1: UnsafePointer<Float>,
                                     _ s2: UnsafePointer<Float>, _ s3: UnsafePointer<Float>, _ s4: UnsafePointer<Float>,
                                     _ k: UnsafePointer<Float>, _ n: Int) {
    let (w0, w1, w2, w3, w4) = (k[0], k[1], k[2], k[3], k[4])
    for i in 0..<n { d[i] = d[i] + w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i] + w4 * s4[i] }
}

/// y = depthwise(x, w) (+ bias), parallel over (sample, channel) planes.
func depthwiseForward(_ geo: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                      _ y: UnsafeMutablePointer<Float>) {
    let plan = DepthwisePlan(geo)
    let taps = geo.kh * geo.kw, inPlane = geo.h * geo.w, outPlane = geo.ho * geo.wo
    Parallel.chunks(geo.n * geo.c, grain: 1) { planes in
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: plan.bufferCount)
        defer { buf.deallocate() }
        for plane in planes {
            let ch = plane % geo.c
            plan.pad(x + plane * inPlane, into: buf)
            plan.correlate(buf, w + ch * taps, bias: bias?[ch], into: y + plane * outPlane)
        }
    }
}

/// The input gradient (written, not accumulated) and/or the weight gradient of a depthwise conv.
func depthwiseBackward(_ geo: ConvGeometry, _ g: UnsafePointer<Float>, x: UnsafePointer<Float>?, w: UnsafePointer<Float>?,
                       gx: UnsafeMutablePointer<Float>?, gw: UnsafeMutablePointer<Float>?) {
    let plan = DepthwisePlan(geo)
    let taps = geo.kh * geo.kw, inPlane = geo.h * geo.w, outPlane = geo.ho * geo.wo
    if let gw, let x {
        // Channels are independent: parallel over channels, samples in order (deterministic sums).
        Parallel.chunks(geo.c, grain: 1) { channels in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: plan.bufferCount)
            let acc = UnsafeMutablePointer<Float>.allocate(capacity: taps * geo.wo)
            defer { buf.deallocate(); acc.deallocate() }
            for ch in channels {
                acc.initialize(repeating: 0, count: taps * geo.wo)
                for s in 0..<geo.n {
                    let plane = s * geo.c + ch
                    plan.pad(x + plane * inPlane, into: buf)
                    plan.accumulateWeightGrad(g + plane * outPlane, buf, into: acc)
                    if let gx, let w {
                        plan.scatter(g + plane * outPlane, w + ch * taps, into: buf)
                        plan.unpad(buf, into: gx + plane * inPlane)
                    }
                }
                for t in 0..<taps { gw[ch * taps + t] = sumContiguous(acc + t * geo.wo, geo.wo) }
            }
        }
    } else if let gx, let w {
        Parallel.chunks(geo.n * geo.c, grain: 1) { planes in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: plan.bufferCount)
            defer { buf.deallocate() }
            for plane in planes {
                plan.scatter(g + plane * outPlane, w + (plane % geo.c) * taps, into: buf)
                plan.unpad(buf, into: gx + plane * inPlane)
            }
        }
    }
}

// MARK: - GEMM convolutions (im2col, or direct for 1×1)

/// Reused float buffers (im2col columns), so that repeated convolutions do not map and fault in
/// fresh memory every call. Keeps at most `limit` free buffers.
final class ConvScratch: @unchecked Sendable {
    static let shared = ConvScratch()
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private let limit = 4

    func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].capacity >= count }).min(by: { free[$0].capacity < free[$1].capacity }) {
            return free.remove(at: i)
        }
        return (UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1)), Swift.max(count, 1))
    }

    func give(_ buffer: (pointer: UnsafeMutablePointer<Float>, capacity: Int)) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
        if free.count > limit {
            // Drop the smallest: the large ones are the expensive ones to re-create.
            let i = free.indices.min(by: { free[$0].capacity < free[$1].capacity })!
            free.remove(at: i).pointer.deallocate()
        }
    }

    func with<T>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> T) -> T {
        let buffer = take(count)
        defer { give(buffer) }
        return body(buffer.pointer)
    }
}

/// Splits 0..<count into `parts` contiguous chunks (as `Parallel.chunks`) and passes the chunk
/// index too, for per-chunk partial sums.
private func indexedChunks(_ count: Int, parts: Int, _ body: (Int, Range<Int>) -> Void) {
    if parts <= 1 { body(0, 0..<count); return }
    DispatchQueue.concurrentPerform(iterations: parts) { p in
        body(p, (count * p / parts)..<(count * (p + 1) / parts))
    }
}

/// The layout of a grouped convolution computed by GEMMs.
struct GemmConv {
    let geo: ConvGeometry
    let o, groups: Int
    var cg: Int { geo.c / groups }
    var og: Int { o / groups }
    var spatial: Int { geo.ho * geo.wo }
    var patch: Int { cg * geo.kh * geo.kw }
    /// 1×1, stride 1, no padding: the input of a sample is already the column matrix.
    var direct: Bool {
        geo.kh == 1 && geo.kw == 1 && geo.sh == 1 && geo.sw == 1 && geo.top == 0 && geo.bottom == 0 && geo.left == 0 && geo.right == 0
    }
    /// Samples run in parallel (BLAS single-threaded) when there are at least two and threads.
    var parts: Int { Swift.min(Parallel.threadCount, geo.n) }

    /// Runs `body(chunk, samples, col)` over chunks of samples, each with its own column buffer
    /// (nil for direct convs); `parallelInside` tells the body whether it may parallelise itself.
    private func overSamples(_ body: (_ chunk: Int, _ samples: Range<Int>, _ col: UnsafeMutablePointer<Float>?, _ parallelInside: Bool) -> Void) {
        let colCount = direct ? 0 : patch * spatial
        func run(_ chunk: Int, _ samples: Range<Int>, _ parallelInside: Bool) {
            if colCount == 0 { body(chunk, samples, nil, parallelInside) } else {
                ConvScratch.shared.with(colCount) { body(chunk, samples, $0, parallelInside) }
            }
        }
        if parts <= 1 {
            run(0, 0..<geo.n, true)
        } else {
            BLAS.singleThreaded { indexedChunks(geo.n, parts: parts) { run($0, $1, false) } }
        }
    }

    func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let (og, cg, spatial, patch) = (og, cg, spatial, patch)
        overSamples { _, samples, col, parallelInside in
            for s in samples {
                for gi in 0..<groups {
                    let b: UnsafePointer<Float>
                    if let col {
                        geo.im2col(x, sample: s, c0: gi * cg, cg: cg, into: col, parallel: parallelInside)
                        b = UnsafePointer(col)
                    } else {
                        b = x + (s * geo.c + gi * cg) * spatial
                    }
                    BLAS.gemm(m: og, n: spatial, k: patch, a: w + gi * og * patch, b: b, c: y + (s * o + gi * og) * spatial)
                }
                if let bias { addBias(bias, to: y + s * o * spatial, channels: o, spatial: spatial, parallel: parallelInside) }
            }
        }
    }

    /// gx (written, not accumulated) and gw (written) from the output gradient g.
    func backward(_ g: UnsafePointer<Float>, x: UnsafePointer<Float>?, w: UnsafePointer<Float>?,
                  gx: UnsafeMutablePointer<Float>?, gw: UnsafeMutablePointer<Float>?) {
        let (og, cg, spatial, patch) = (og, cg, spatial, patch)
        let weightCount = o * patch, parts = parts
        // Per-chunk weight-gradient partials (chunk 0 writes into gw itself).
        let partials = gw != nil && parts > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: (parts - 1) * weightCount) : nil
        defer { partials?.deallocate() }
        overSamples { chunk, samples, col, parallelInside in
            let gwChunk = gw.map { chunk == 0 ? $0 : partials! + (chunk - 1) * weightCount }
            for s in samples {
                let first = s == samples.lowerBound
                if gx != nil && !direct {
                    let dst = gx! + s * geo.c * geo.h * geo.w
                    dst.initialize(repeating: 0, count: geo.c * geo.h * geo.w)
                }
                for gi in 0..<groups {
                    let gs = g + (s * o + gi * og) * spatial
                    if let x, let gwChunk {
                        let b: UnsafePointer<Float>
                        if let col {
                            geo.im2col(x, sample: s, c0: gi * cg, cg: cg, into: col, parallel: parallelInside)
                            b = UnsafePointer(col)
                        } else {
                            b = x + (s * geo.c + gi * cg) * spatial
                        }
                        BLAS.gemm(transB: true, m: og, n: patch, k: spatial, a: gs, b: b, beta: first ? 0 : 1, c: gwChunk + gi * og * patch)
                    }
                    if let w, let gx {
                        let a = w + gi * og * patch
                        if let col {
                            BLAS.gemm(transA: true, m: patch, n: spatial, k: og, a: a, b: gs, c: col)
                            geo.col2im(col, sample: s, c0: gi * cg, cg: cg, into: gx, parallel: parallelInside)
                        } else {
                            BLAS.gemm(transA: true, m: patch, n: spatial, k: og, a: a, b: gs, c: gx + (s * geo.c + gi * cg) * spatial)
                        }
                    }
                }
            }
        }
        if let gw, let partials {
            Parallel.chunks(weightCount, grain: 16_384) { r in
                for p in 0..<(parts - 1) {
                    let src = partials + p * weightCount
                    for i in r { gw[i] += src[i] }
                }
            }
        }
    }
}

/// plane[ch] += bias[ch] over `channels` planes of `spatial` values.
func addBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, channels: Int, spatial: Int, parallel: Bool) {
    func run(_ planes: Range<Int>) {
        for ch in planes {
            let b = bias[ch], p = y + ch * spatial
            for i in 0..<spatial { p[i] += b }
        }
    }
    if parallel { Parallel.chunks(channels, grain: Swift.max(1, 16_384 / Swift.max(spatial, 1))) { run($0) } } else { run(0..<channels) }
}
