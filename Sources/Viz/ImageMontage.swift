/// Several images in one figure with captions, like the paper's Figure 7 (one column per
/// method, one row per input image, the method's name above its column).
public enum ImageMontage {
    /// `rows[r][c]` is the image in row r, column c (rows may be shorter than the caption list;
    /// missing cells stay background). Each column is as wide as its widest image or caption;
    /// images are centred in their cells.
    public static func grid(_ rows: [[RGBImage]], columnCaptions: [String], spacing: Int = 8, captionScale: Int = 2,
                            background: RGBColor = .white) -> RGBImage {
        let columns = max(columnCaptions.count, rows.map(\.count).max() ?? 0)
        precondition(columns > 0 && !rows.isEmpty, "ImageMontage: nothing to lay out")
        let columnWidths = (0..<columns).map { c in
            max(rows.compactMap { c < $0.count ? $0[c].width : nil }.max() ?? 0,
                c < columnCaptions.count ? BitmapFont.width(of: columnCaptions[c], scale: captionScale) : 0)
        }
        let rowHeights = rows.map { $0.map(\.height).max() ?? 0 }
        let hasCaptions = columnCaptions.contains { !$0.isEmpty }
        let captionHeight = hasCaptions ? BitmapFont.lineHeight * captionScale + spacing : 0
        let width = columnWidths.reduce(0, +) + spacing * (columns + 1)
        let height = spacing + captionHeight + rowHeights.reduce(0, +) + spacing * rows.count
        var canvas = RGBImage(width: max(width, 1), height: max(height, 1), color: background)
        var x = spacing
        for c in 0..<columns {
            if c < columnCaptions.count {
                let captionX = x + (columnWidths[c] - BitmapFont.width(of: columnCaptions[c], scale: captionScale)) / 2
                BitmapFont.draw(columnCaptions[c], on: &canvas, x: captionX, y: spacing, scale: captionScale, color: .black)
            }
            var y = spacing + captionHeight
            for (r, row) in rows.enumerated() {
                if c < row.count {
                    let image = row[c]
                    canvas.paste(image, x: x + (columnWidths[c] - image.width) / 2, y: y + (rowHeights[r] - image.height) / 2)
                }
                y += rowHeights[r] + spacing
            }
            x += columnWidths[c] + spacing
        }
        return canvas
    }

    /// One row of images, each captioned above (e.g. overlays of one image, one per method).
    public static func sideBySide(_ images: [RGBImage], captions: [String], spacing: Int = 8, captionScale: Int = 2) -> RGBImage {
        grid([images], columnCaptions: captions, spacing: spacing, captionScale: captionScale)
    }
}
