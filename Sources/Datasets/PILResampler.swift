/// PIL's `Image.resize` for 8-bit images (Resample.c), reproduced operation for operation so
/// our preprocessing equals torchvision-on-PIL pixel for pixel.
///
/// Why not `Tensor.ResizeWeights`: PIL computes the filter weights in double precision, turns
/// them into 22-bit fixed-point integers, runs the horizontal pass first and rounds the
/// intermediate image to uint8 before the vertical pass. Float weights or a float intermediate
/// land one grey level off on a few percent of pixels. Antialiasing is PIL's: when shrinking,
/// the filter support widens by the scale factor.
enum PILResampler {
    private static let precisionBits = 32 - 8 - 2

    /// The fixed-point filter taps of one axis: output i reads `count[i]` inputs from `start[i]`
    /// with weights `weights[i·stride ..< i·stride + count[i]]`. PIL sums in 32-bit ints, which
    /// cannot overflow: the weights' absolute sum stays below 1.3 · 2²², times 255.
    struct Taps {
        let start: [Int]
        let count: [Int]
        let stride: Int
        let weights: [Int32]

        init(inputSize: Int, outputSize: Int, interpolation: Interpolation) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = Swift.max(scale, 1)
            let baseSupport: Double = interpolation == .bilinear ? 1 : 2
            let support = baseSupport * filterScale
            let stride = Int(support.rounded(.up)) * 2 + 1
            var start = [Int](repeating: 0, count: outputSize)
            var count = [Int](repeating: 0, count: outputSize)
            var weights = [Int32](repeating: 0, count: outputSize * stride)
            var taps = [Double](repeating: 0, count: stride)
            for i in 0..<outputSize {
                let centre = (Double(i) + 0.5) * scale
                let inverse = 1 / filterScale
                let lo = Swift.max(Int(centre - support + 0.5), 0)   // C's (int) truncation, as PIL
                let hi = Swift.min(Int(centre + support + 0.5), inputSize)
                let n = Swift.max(hi - lo, 0)
                var total = 0.0
                for x in 0..<n {
                    let w = PILResampler.filter(interpolation, (Double(x + lo) - centre + 0.5) * inverse)
                    taps[x] = w
                    total += w
                }
                for x in 0..<n {
                    let w = total != 0 ? taps[x] / total : taps[x]
                    let fixed = w * Double(1 << PILResampler.precisionBits)
                    weights[i * stride + x] = Int32(w < 0 ? -0.5 + fixed : 0.5 + fixed)
                }
                start[i] = lo
                count[i] = n
            }
            self.start = start
            self.count = count
            self.stride = stride
            self.weights = weights
        }
    }

    static func filter(_ interpolation: Interpolation, _ x: Double) -> Double {
        let x = Swift.abs(x)
        switch interpolation {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }

    /// PIL's `clip8`: drop the fraction bits (a floor, as C's arithmetic shift) and clamp.
    @inline(__always) private static func clip8(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> Int32(precisionBits))
    }

    static func resize(_ image: RGB8Image, width: Int, height: Int, interpolation: Interpolation) -> RGB8Image {
        precondition(width > 0 && height > 0, "resize: target size \(width)×\(height) must be positive")
        if width == image.width && height == image.height { return image }
        let needHorizontal = width != image.width
        let needVertical = height != image.height
        let vertical = needVertical ? Taps(inputSize: image.height, outputSize: height, interpolation: interpolation) : nil
        var current = image
        if needHorizontal {
            // Only the rows the vertical pass reads, as PIL does (same values either way).
            let firstRow = vertical?.start.first ?? 0
            let lastRow = vertical.map { $0.start[height - 1] + $0.count[height - 1] } ?? image.height
            let taps = Taps(inputSize: image.width, outputSize: width, interpolation: interpolation)
            current = horizontalPass(image, rows: firstRow..<lastRow, width: width, taps: taps)
            if var v = vertical {
                v = Taps(shifted: v, by: -firstRow)
                return verticalPass(current, height: height, taps: v)
            }
            return current
        }
        return verticalPass(current, height: height, taps: vertical!)
    }

    private static func horizontalPass(_ image: RGB8Image, rows: Range<Int>, width: Int, taps: Taps) -> RGB8Image {
        var output = [UInt8](repeating: 0, count: rows.count * width * 3)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                taps.weights.withUnsafeBufferPointer { weights in
                    taps.start.withUnsafeBufferPointer { start in
                        taps.count.withUnsafeBufferPointer { count in
                            for (row, y) in rows.enumerated() {
                                let inRow = input.baseAddress! + y * image.width * 3
                                let outRow = out.baseAddress! + row * width * 3
                                for x in 0..<width {
                                    var r = half, g = half, b = half
                                    let k = weights.baseAddress! + x * taps.stride
                                    var p = inRow + start[x] * 3
                                    for t in 0..<count[x] {
                                        let w = k[t]
                                        r &+= Int32(p[0]) &* w
                                        g &+= Int32(p[1]) &* w
                                        b &+= Int32(p[2]) &* w
                                        p += 3
                                    }
                                    outRow[3 * x] = clip8(r)
                                    outRow[3 * x + 1] = clip8(g)
                                    outRow[3 * x + 2] = clip8(b)
                                }
                            }
                        }
                    }
                }
            }
        }
        return RGB8Image(width: width, height: rows.count, pixels: output)
    }

    /// Each output row is a weighted sum of whole input rows: accumulated row by row so the
    /// inner loop runs over contiguous bytes (and vectorises).
    private static func verticalPass(_ image: RGB8Image, height: Int, taps: Taps) -> RGB8Image {
        let rowBytes = image.width * 3
        var output = [UInt8](repeating: 0, count: height * rowBytes)
        var sums = [Int32](repeating: 0, count: rowBytes)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                sums.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<height {
                        for i in 0..<rowBytes { acc[i] = half }
                        for t in 0..<taps.count[y] {
                            let w = taps.weights[y * taps.stride + t]
                            let source = input.baseAddress! + (taps.start[y] + t) * rowBytes
                            for i in 0..<rowBytes { acc[i] &+= Int32(source[i]) &* w }
                        }
                        let target = out.baseAddress! + y * rowBytes
                        for i in 0..<rowBytes { target[i] = clip8(acc[i]) }
                    }
                }
            }
        }
        return RGB8Image(width: image.width, height: height, pixels: output)
    }
}

extension PILResampler.Taps {
    /// The same taps reading from an image whose first row is `-offset` (the cropped
    /// intermediate of the horizontal pass).
    init(shifted taps: PILResampler.Taps, by offset: Int) {
        self.start = taps.start.map { $0 + offset }
        self.count = taps.count
        self.stride = taps.stride
        self.weights = taps.weights
    }
}

extension RGB8Image {
    /// This image resized to exactly `width`×`height` as PIL's `Image.resize` (what
    /// torchvision's `Resize((h, w))` runs on PIL images).
    public func resized(width: Int, height: Int, interpolation: Interpolation) -> RGB8Image {
        PILResampler.resize(self, width: width, height: height, interpolation: interpolation)
    }

    /// torchvision's `Resize(size)` with one int: the shorter side becomes `size`, the longer
    /// side `int(size · long / short)` (truncated, as torchvision computes it).
    public func resized(shorterSide size: Int, interpolation: Interpolation) -> RGB8Image {
        let (w, h) = TorchvisionGeometry.shorterSide(width: width, height: height, to: size)
        return resized(width: w, height: h, interpolation: interpolation)
    }
}

