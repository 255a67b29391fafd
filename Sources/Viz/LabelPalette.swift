/// Colours for segmentation label maps: Pascal VOC's palette (the one its `SegmentationClass`
/// PNGs store and mmseg draws with), where class k's colour spreads k's bits over the high
/// bits of red, green and blue — 0 black, 1 (128, 0, 0), 2 (0, 128, 0), 3 (128, 128, 0), … —
/// so neighbouring labels get clearly different colours. The ignore label 255 is drawn white.
public enum LabelPalette {
    public static func color(_ label: Int) -> RGBColor {
        if label == 255 { return .white }
        var (r, g, b) = (0, 0, 0)
        var k = label
        for shift in stride(from: 7, through: 0, by: -1) where k > 0 {
            r |= (k & 1) << shift
            g |= ((k >> 1) & 1) << shift
            b |= ((k >> 2) & 1) << shift
            k >>= 3
        }
        return RGBColor(red: UInt8(r), green: UInt8(g), blue: UInt8(b))
    }

    /// A label map (row-major, `width` × `height`) as an image, each label its palette colour.
    public static func image(labels: [Int], width: Int, height: Int) -> RGBImage {
        precondition(labels.count == width * height, "LabelPalette: \(labels.count) labels for a \(width)×\(height) map")
        var image = RGBImage(width: width, height: height)
        for (i, label) in labels.enumerated() {
            let c = color(label)
            (image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2]) = (c.red, c.green, c.blue)
        }
        return image
    }
}
