/// TFRecord framing, the container of TensorBoard event files: per record the data's length as
/// a little-endian uint64, the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C
/// of the data. Readers check both CRCs, so a record cut short by a killed process is detected.
public enum TFRecord {
    public static func framed(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        out += length
        append(CRC32C.masked(CRC32C.checksum(length)), to: &out)
        out += data
        append(CRC32C.masked(CRC32C.checksum(data)), to: &out)
        return out
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }
}
