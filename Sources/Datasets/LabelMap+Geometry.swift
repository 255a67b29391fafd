/// The geometry of label maps that joint image/mask transforms need. Labels are never blended:
/// resizing picks one source label per pixel and anything outside the map is `fill` (the ignore
/// index), so no invented class enters the loss.
extension LabelMap {
    /// Nearest-neighbour resize as OpenCV's `INTER_NEAREST` (what mmseg uses for label maps):
    /// output pixel x reads source ⌊x · in / out⌋, clamped. (PIL's `NEAREST` reads
    /// ⌊(x + ½) · in / out⌋ instead and picks other pixels.)
    public func resized(width newWidth: Int, height newHeight: Int) -> LabelMap {
        precondition(newWidth > 0 && newHeight > 0, "LabelMap.resized: size \(newWidth)×\(newHeight) must be positive")
        let columns = (0..<newWidth).map { Swift.min(Int((Double($0) * Double(width) / Double(newWidth)).rounded(.down)), width - 1) }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight)
        for y in 0..<newHeight {
            let sy = Swift.min(Int((Double(y) * Double(height) / Double(newHeight)).rounded(.down)), height - 1)
            for x in 0..<newWidth { out[y * newWidth + x] = labels[sy * width + columns[x]] }
        }
        return LabelMap(width: newWidth, height: newHeight, labels: out)
    }

    /// The labels inside `box`; parts outside the map are `fill`.
    public func cropped(to box: TorchvisionGeometry.Box, fill: UInt8 = 255) -> LabelMap {
        precondition(box.width > 0 && box.height > 0, "LabelMap.cropped: box \(box.width)×\(box.height) must be positive")
        var out = [UInt8](repeating: fill, count: box.width * box.height)
        for row in 0..<box.height {
            let y = box.top + row
            guard y >= 0, y < height else { continue }
            for column in 0..<box.width {
                let x = box.left + column
                if x >= 0 && x < width { out[row * box.width + column] = labels[y * width + x] }
            }
        }
        return LabelMap(width: box.width, height: box.height, labels: out)
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> LabelMap {
        var out = labels
        for y in 0..<height { for x in 0..<width { out[y * width + x] = labels[y * width + width - 1 - x] } }
        return LabelMap(width: width, height: height, labels: out)
    }
}
