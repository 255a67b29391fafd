import Foundation

/// The image file formats V-PEFT Bench decodes, recognised by their signature bytes (never by
/// the file extension, which datasets get wrong).
public enum ImageFormat: String, Sendable {
    case jpeg, png

    /// The format whose signature `bytes` start with, if any.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }
}

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files to `RGB8Image` with PIL's
/// `Image.open(f).convert("RGB")` semantics: EXIF orientation ignored, alpha dropped (not
/// composited), grey replicated, CMYK converted as PIL does. Every failure — corrupt or
/// truncated data, a file that is not an image, an absurd size — is a `DatasetError` naming the
/// file; nothing traps and nothing comes back half-decoded.
public enum ImageDecoder {
    /// Images above this many pixels are refused before any pixel buffer is allocated, so a
    /// hostile header cannot make the process allocate gigabytes (PIL's bomb limit is ~179 M
    /// pixels; no benchmark image comes near either).
    public static let maxPixels = 1 << 27

    public static func decode(_ data: Data, source: String) throws -> RGB8Image {
        try data.withUnsafeBytes { try decode($0, source: source) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws -> RGB8Image {
        switch ImageFormat.sniff(bytes) {
        case .jpeg: return try JPEGDecoder.decode(bytes, source: source)
        case .png: return try PNGDecoder.decode(bytes, source: source)
        case nil:
            let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw DatasetError(file: source, "not a JPEG or PNG image (\(bytes.count) bytes, starting \(head.isEmpty ? "<empty>" : head))")
        }
    }

    /// Reads and decodes the file at `url`; errors name its path.
    public static func decode(contentsOf url: URL) throws -> RGB8Image {
        try decode(try readFile(url), source: url.path)
    }

    /// Reads a whole file into memory — deliberately not memory-mapped: a file truncated by
    /// another process while mapped would kill us with SIGBUS instead of raising an error.
    static func readFile(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw DatasetError(file: url.path, "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    /// Rejects sizes that are empty or above `maxPixels`.
    static func checkSize(width: Int, height: Int, source: String) throws {
        guard width > 0, height > 0 else { throw DatasetError(file: source, "image has an empty size \(width)×\(height)") }
        guard width * height <= maxPixels else {
            throw DatasetError(file: source, "image is \(width)×\(height) pixels; the limit is \(maxPixels) pixels")
        }
    }
}
