/// Attention heat maps laid over the input image, as in attention-visualisation figures: the
/// patch grid is min–max normalised, upsampled bilinearly to the image size, coloured with a
/// colormap (viridis by default: brighter = more attention) and alpha-blended over the image.
public enum AttentionOverlay {
    /// `alpha` is the heat map's opacity: 0 shows only the image, 1 only the map.
    public static func render(image: RGBImage, attention: AttentionMap, colormap: Colormap = .viridis,
                              alpha: Double = 0.5) -> RGBImage {
        precondition(alpha >= 0 && alpha <= 1, "AttentionOverlay: alpha \(alpha) must be in [0, 1]")
        let heat = attention.normalised().upsampled(width: image.width, height: image.height)
        var out = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                out.blend(x: x, y: y, color: colormap.color(at: Double(heat[y * image.width + x])), alpha: alpha)
            }
        }
        return out
    }
}
