import Foundation

extension Plot {
    /// The plot as pixels (for PNG).
    public func rasterImage() -> RGBImage {
        var surface = RasterSurface(width: width, height: height)
        PlotRenderer.draw(self, on: &surface)
        return surface.image
    }

    /// The plot as an SVG document with real text.
    public func svgDocument() -> String {
        var surface = SVGSurface(width: width, height: height)
        PlotRenderer.draw(self, on: &surface)
        return surface.document
    }

    /// The plot as an `<svg>` element to inline in an HTML page; `idPrefix` keeps its element ids
    /// apart from other plots' on the same page.
    public func svgElement(idPrefix: String) -> String {
        var surface = SVGSurface(width: width, height: height, idPrefix: idPrefix)
        PlotRenderer.draw(self, on: &surface)
        return surface.inlineElement
    }

    /// Writes the plot atomically as PNG or SVG, chosen by the file extension.
    public func write(to url: URL) throws {
        switch url.pathExtension.lowercased() {
        case "png": try PNG.write(rasterImage(), to: url)
        case "svg": try AtomicFile.write(svgDocument(), to: url)
        default: throw PlotOutputError(description: "\(url.path): unknown plot format '.\(url.pathExtension)' (use .png or .svg)")
        }
    }
}

public struct PlotOutputError: Error, CustomStringConvertible {
    public let description: String
}
