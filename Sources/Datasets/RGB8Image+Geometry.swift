extension RGB8Image {
    /// The pixels inside `box`; parts of the box outside the image are black, as PIL's `crop`
    /// (and torchvision's zero padding before a centre crop larger than the image).
    public func cropped(to box: TorchvisionGeometry.Box) -> RGB8Image {
        precondition(box.width > 0 && box.height > 0, "crop: box \(box.width)×\(box.height) must be positive")
        var output = [UInt8](repeating: 0, count: box.width * box.height * 3)
        let columns = Swift.max(box.left, 0)..<Swift.min(box.left + box.width, width)
        guard !columns.isEmpty else { return RGB8Image(width: box.width, height: box.height, pixels: output) }
        pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                for row in 0..<box.height {
                    let y = box.top + row
                    guard y >= 0, y < height else { continue }
                    let source = (y * width + columns.lowerBound) * 3
                    let target = (row * box.width + columns.lowerBound - box.left) * 3
                    for i in 0..<(columns.count * 3) { out[target + i] = input[source + i] }
                }
            }
        }
        return RGB8Image(width: box.width, height: box.height, pixels: output)
    }

    /// Mirrored left to right (PIL's `FLIP_LEFT_RIGHT`, torchvision's `hflip`).
    public func flippedHorizontally() -> RGB8Image {
        var output = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                for y in 0..<height {
                    let row = y * width * 3
                    for x in 0..<width {
                        let s = row + x * 3, t = row + (width - 1 - x) * 3
                        out[t] = input[s]; out[t + 1] = input[s + 1]; out[t + 2] = input[s + 2]
                    }
                }
            }
        }
        return RGB8Image(width: width, height: height, pixels: output)
    }
}
