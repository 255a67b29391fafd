import Foundation

extension Data {
    /// The little-endian unsigned integer at `offset` (counted from the start of this `Data`,
    /// whatever its `startIndex`), or nil when it would run past either end. Parsers of untrusted
    /// files turn that nil into an error naming the file, never an out-of-bounds trap.
    func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(self[startIndex + offset + i]) << (8 * i) }
        return value
    }

    /// The bytes in `offset ..< offset + length` as a new `Data` indexed from 0, or nil when
    /// the range is negative or runs past the end.
    func bytes(at offset: Int, length: Int) -> Data? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return subdata(in: startIndex + offset ..< startIndex + offset + length)
    }
}
