/// PIL's per-channel lookup-table operations (`ImageOps` and timm's `solarize_add`), as
/// Pillow 13 computes their tables. Each returns a new image; the input is never modified.
enum PILPointOperations {
    /// One 256-entry table per channel (R, G, B).
    typealias Tables = [[UInt8]]

    static func apply(_ tables: Tables, to image: RGB8Image) -> RGB8Image {
        var output = image.pixels
        output.withUnsafeMutableBufferPointer { out in
            for c in 0..<3 {
                let table = tables[c]
                var i = c
                while i < out.count { out[i] = table[Int(out[i])]; i += 3 }
            }
        }
        return RGB8Image(width: image.width, height: image.height, pixels: output)
    }

    static func applySame(_ table: [UInt8], to image: RGB8Image) -> RGB8Image {
        apply([table, table, table], to: image)
    }

    static func histograms(_ image: RGB8Image) -> [[Int]] {
        var h = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 3)
        image.pixels.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 3) {
                h[0][Int(p[i])] += 1; h[1][Int(p[i + 1])] += 1; h[2][Int(p[i + 2])] += 1
            }
        }
        return h
    }

    /// `ImageOps.autocontrast` (no cutoff): stretch each channel's [lowest, highest] used level
    /// to [0, 255] with `int(v · scale + offset)`.
    static func autoContrast(_ image: RGB8Image) -> RGB8Image {
        let tables = histograms(image).map { h -> [UInt8] in
            guard let lo = h.firstIndex(where: { $0 != 0 }), let hi = h.lastIndex(where: { $0 != 0 }), hi > lo else {
                return (0..<256).map { UInt8($0) }
            }
            let scale = 255.0 / Double(hi - lo)
            let offset = -Double(lo) * scale
            return (0..<256).map { UInt8(clamping: Int(Double($0) * scale + offset)) }
        }
        return apply(tables, to: image)
    }

    /// `ImageOps.equalize` (Pillow ≥ 12: the step divides by 255).
    static func equalize(_ image: RGB8Image) -> RGB8Image {
        let tables = histograms(image).map { h -> [UInt8] in
            let used = h.filter { $0 != 0 }
            let identity = (0..<256).map { UInt8($0) }
            guard used.count > 1 else { return identity }
            let step = (used.reduce(0, +) - used.last!) / 255
            guard step != 0 else { return identity }
            var n = step / 2
            var table = [UInt8](repeating: 0, count: 256)
            for i in 0..<256 {
                table[i] = UInt8(clamping: n / step)
                n += h[i]
            }
            return table
        }
        return apply(tables, to: image)
    }

    static func invert(_ image: RGB8Image) -> RGB8Image {
        applySame((0..<256).map { UInt8(255 - $0) }, to: image)
    }

    /// Keeps the `bits` most significant bits. Zero bits gives black — what every Pillow before
    /// 13 did and what timm's PosterizeIncreasing asks for at magnitude 10 (Pillow 13 raises).
    static func posterize(_ image: RGB8Image, bits: Int) -> RGB8Image {
        let mask = bits <= 0 ? 0 : ~((1 << (8 - Swift.min(bits, 8))) - 1) & 0xFF
        return applySame((0..<256).map { UInt8($0 & mask) }, to: image)
    }

    /// `ImageOps.solarize`: levels at or above `threshold` are inverted.
    static func solarize(_ image: RGB8Image, threshold: Int) -> RGB8Image {
        applySame((0..<256).map { UInt8($0 < threshold ? $0 : 255 - $0) }, to: image)
    }

    /// timm's `solarize_add`: levels below `threshold` brightened by `amount` (0–255), saturating.
    static func solarizeAdd(_ image: RGB8Image, amount: Int, threshold: Int) -> RGB8Image {
        let amount = Swift.min(Swift.max(amount, 0), 255)
        return applySame((0..<256).map { UInt8($0 < threshold ? Swift.min(255, $0 + amount) : $0) }, to: image)
    }
}
