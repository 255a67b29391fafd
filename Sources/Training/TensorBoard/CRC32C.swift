/// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the checksum of TFRecord framing, and
/// the "masked" form TensorFlow stores: a CRC computed over data that itself holds CRCs is
/// weak, so stored CRCs are rotated and offset (TensorFlow's `crc32c::Mask`).
public enum CRC32C {
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }

    /// ((crc >> 15) | (crc << 17)) + 0xa282ead8, wrapping.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }
}
