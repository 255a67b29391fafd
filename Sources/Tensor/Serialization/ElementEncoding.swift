/// Conversion of stored numbers of any common dtype to Float, shared by every tensor file reader.
/// How one stored element is encoded. Each reader maps its own dtype names ("<f4",
/// torch.HalfStorage, …) onto this, so every format converts to Float through one code path.
public struct ElementEncoding: Equatable, Sendable {
    public enum Kind: Sendable { case float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool }

    public var kind: Kind
    public var bigEndian = false

    public init(_ kind: Kind, bigEndian: Bool = false) {
        self.kind = kind
        self.bigEndian = bigEndian
    }

    public var byteCount: Int {
        switch kind {
        case .int8, .uint8, .bool: 1
        case .float16, .bfloat16, .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    /// Converts `count` elements, `byteStride` bytes apart, starting at `source`.
    public func convert(_ source: UnsafeRawPointer, byteStride: Int, count: Int, into target: UnsafeMutablePointer<Float>) {
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            let raw = source.loadUnaligned(fromByteOffset: i * byteStride, as: T.self)
            return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
        }
        switch kind {
        case .float16: for i in 0..<count { target[i] = SafeTensors.halfToFloat(load(UInt16.self, i)) }
        case .bfloat16: for i in 0..<count { target[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16) }
        case .float32: for i in 0..<count { target[i] = Float(bitPattern: load(UInt32.self, i)) }
        case .float64: for i in 0..<count { target[i] = Float(Double(bitPattern: load(UInt64.self, i))) }
        case .int8: for i in 0..<count { target[i] = Float(load(Int8.self, i)) }
        case .int16: for i in 0..<count { target[i] = Float(load(Int16.self, i)) }
        case .int32: for i in 0..<count { target[i] = Float(load(Int32.self, i)) }
        case .int64: for i in 0..<count { target[i] = Float(load(Int64.self, i)) }
        case .uint8: for i in 0..<count { target[i] = Float(load(UInt8.self, i)) }
        case .uint16: for i in 0..<count { target[i] = Float(load(UInt16.self, i)) }
        case .uint32: for i in 0..<count { target[i] = Float(load(UInt32.self, i)) }
        case .uint64: for i in 0..<count { target[i] = Float(load(UInt64.self, i)) }
        case .bool: for i in 0..<count { target[i] = load(UInt8.self, i) == 0 ? 0 : 1 }
        }
    }
}
