/// Swin's window partition and its inverse over channels-last feature maps, as timm's
/// `window_partition` / `window_reverse`: [B, H, W, C] ↔ [B·(H/w)·(W/w), w·w, C], windows in
/// row-major order per image (window (i, j) of image b is entry (b·H/w + i)·W/w + j) and tokens
/// row-major within a window. Each is a permutation of rows of C values, so the gradient of one
/// is the other.

/// The non-overlapping w×w windows of `x` [B, H, W, C] (H and W multiples of w) as token
/// sequences [B·nW, w·w, C].
public func windowPartition(_ x: Tensor, window w: Int) -> Tensor {
    precondition(x.rank == 4 && w > 0 && x.shape[1] % w == 0 && x.shape[2] % w == 0,
                 "windowPartition: \(x.shape) is not [B, H, W, C] with H and W multiples of the window \(w)")
    let (b, h, width, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = Tensor(uninitializedShape: [b * (h / w) * (width / w), w * w, c])
    moveWindowRows(batch: b, height: h, width: width, channels: c, window: w, map: x.data, windows: out.data, toWindows: true)
    if Tensor.needsGraph([x]) {
        out.record("window_partition", [x]) { g in [windowReverse(g, window: w, height: h, width: width)] }
    }
    return out
}

/// Reassembles [B·nW, w·w, C] windows (as `windowPartition` made them) into [B, H, W, C].
public func windowReverse(_ windows: Tensor, window w: Int, height h: Int, width: Int) -> Tensor {
    precondition(w > 0 && h % w == 0 && width % w == 0, "windowReverse: \(h)×\(width) is not a multiple of the window \(w)")
    let perImage = (h / w) * (width / w)
    precondition(windows.rank == 3 && windows.shape[1] == w * w && windows.shape[0] % perImage == 0,
                 "windowReverse: \(windows.shape) is not [B·\(perImage), \(w * w), C] for \(h)×\(width) in \(w)×\(w) windows")
    let (b, c) = (windows.shape[0] / perImage, windows.shape[2])
    let out = Tensor(uninitializedShape: [b, h, width, c])
    moveWindowRows(batch: b, height: h, width: width, channels: c, window: w, map: out.data, windows: windows.data, toWindows: false)
    if Tensor.needsGraph([windows]) {
        out.record("window_reverse", [windows]) { g in [windowPartition(g, window: w)] }
    }
    return out
}

/// Copies every window row (w·C contiguous values in both layouts) from the map to the windows
/// or back.
private func moveWindowRows(batch b: Int, height h: Int, width: Int, channels c: Int, window w: Int,
                            map: UnsafeMutablePointer<Float>, windows: UnsafeMutablePointer<Float>, toWindows: Bool) {
    let (nh, nw) = (h / w, width / w)
    let rowLength = w * c
    // One item per (image, window row, window column): w rows of w·C values each.
    Parallel.chunks(b * nh * nw, grain: Swift.max(1, 16_384 / Swift.max(w * rowLength, 1))) { range in
        for item in range {
            let (image, within) = item.quotientAndRemainder(dividingBy: nh * nw)
            let (wy, wx) = within.quotientAndRemainder(dividingBy: nw)
            for iy in 0..<w {
                let inMap = map + ((image * h + wy * w + iy) * width + wx * w) * c
                let inWindows = windows + (item * w * w + iy * w) * c
                if toWindows { inWindows.update(from: inMap, count: rowLength) } else { inMap.update(from: inWindows, count: rowLength) }
            }
        }
    }
}
