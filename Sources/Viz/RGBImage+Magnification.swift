extension RGBImage {
    /// The image `factor` times larger, each pixel a factor × factor block (nearest neighbour:
    /// label maps keep their exact colours, small inputs stay sharp).
    public func magnified(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "RGBImage.magnified: factor \(factor) must be ≥ 1")
        guard factor > 1 else { return self }
        var out = RGBImage(width: width * factor, height: height * factor)
        for y in 0..<out.height {
            for x in 0..<out.width {
                let (i, o) = (3 * ((y / factor) * width + x / factor), 3 * (y * out.width + x))
                (out.pixels[o], out.pixels[o + 1], out.pixels[o + 2]) = (pixels[i], pixels[i + 1], pixels[i + 2])
            }
        }
        return out
    }
}
