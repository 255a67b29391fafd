import Foundation
import Tensor

/// A value built by the unpickler. Tuples, lists and dicts live in the machine's arena and are
/// referred to by index: pickles share and mutate containers by reference (a dict is memoized
/// empty and filled later), and indices give that without reference cycles or recursive teardown.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, as pickle stores it: little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple(Int)
    case list(Int)
    case dict(Int)
    /// A class or function the loader allowed (`module.name`), standing for itself.
    case global(module: String, name: String)
    /// Something the loader built (a storage, a tensor record).
    case object(AnyObject)
}

/// Decides what the names in a pickle mean. The machine only moves values; every class lookup,
/// call, state update and persistent id goes through here, so the loader's allow-list is the
/// whole of what a pickle can do.
protocol PickleLoader: AnyObject {
    /// GLOBAL / STACK_GLOBAL: the value standing for `module.name`, or an error refusing it.
    func findGlobal(module: String, name: String) throws -> PickleValue
    /// REDUCE and NEWOBJ: `callable` (a value from `findGlobal`) applied to `arguments`.
    func call(_ callable: PickleValue, _ arguments: [PickleValue], machine: PickleMachine) throws -> PickleValue
    /// BUILD: `object` after setting `state` on it.
    func build(_ object: PickleValue, state: PickleValue, machine: PickleMachine) throws -> PickleValue
    /// BINPERSID: the object a persistent id stands for (PyTorch's storages).
    func persistentLoad(_ id: PickleValue, machine: PickleMachine) throws -> PickleValue
}

/// A restricted unpickler: Python's pickle virtual machine (the binary opcodes of protocols 1–5),
/// minus everything that executes code — it never imports or calls anything itself. Reads one
/// pickle at a time from `position`, so several consecutive pickles (PyTorch's legacy format)
/// come out of one machine.
///
/// Bounded: every opcode consumes at least one byte and every length is checked against the
/// bytes left, and the stack, the memo and the container arena have hard caps, so a hostile
/// pickle fails with an error instead of exhausting memory.
/// Not supported (an error naming the opcode): the protocol-0/1 text opcodes other than GLOBAL
/// (INT, LONG, FLOAT, STRING, UNICODE, PUT, GET, PERSID), INST/OBJ (they instantiate classes
/// directly), the extension registry (EXT1/2/4) and out-of-band buffers.
final class PickleMachine {
    static let maxStackDepth = 1 << 20
    static let maxMemoEntries = 1 << 22
    static let maxContainers = 1 << 22

    let file: String
    private let bytes: Data
    /// Offset of the next byte to read (from the start of `bytes`).
    private(set) var position = 0
    private var stack: [PickleValue] = []
    /// Stack depths at each open MARK; values below the innermost mark cannot be popped.
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Contents of tuples, lists and sets (sets are kept as lists: only their items matter here).
    private(set) var sequences: [[PickleValue]] = []
    private(set) var dicts: [[(key: PickleValue, value: PickleValue)]] = []

    init(_ bytes: Data, file: String) {
        self.bytes = bytes
        self.file = file
    }

    // MARK: Containers (for loaders)

    func makeDict() throws -> PickleValue {
        try checkArena()
        dicts.append([])
        return .dict(dicts.count - 1)
    }

    func makeTuple(_ items: [PickleValue]) throws -> PickleValue {
        try checkArena()
        sequences.append(items)
        return .tuple(sequences.count - 1)
    }

    private func makeList(_ items: [PickleValue]) throws -> PickleValue {
        try checkArena()
        sequences.append(items)
        return .list(sequences.count - 1)
    }

    private func checkArena() throws {
        guard sequences.count + dicts.count < Self.maxContainers else { throw fail("more than \(Self.maxContainers) containers") }
    }

    /// The items of a tuple or list, nil for anything else.
    func items(of value: PickleValue) -> [PickleValue]? {
        switch value {
        case .tuple(let id), .list(let id): sequences[id]
        default: nil
        }
    }

    func fail(_ reason: String) -> TensorFileError {
        TensorFileError(file: file, "pickle: \(reason) (at byte \(position))")
    }

    // MARK: Running

    /// Runs one pickle up to its STOP and returns its value; `position` is left just past the STOP.
    func load(with loader: PickleLoader) throws -> PickleValue {
        stack = []
        marks = []
        memo = [:]  // each pickle has its own memo
        while true {
            let opcode = try readByte()
            switch opcode {
            case 0x80: // PROTO
                let proto = try readByte()
                guard proto <= 5 else { throw fail("unknown pickle protocol \(proto)") }
            case 0x95: // FRAME: a buffering hint; the frame's bytes follow inline
                _ = try readInteger(UInt64.self)
            case UInt8(ascii: "."): // STOP
                return try pop()
            case UInt8(ascii: "("): // MARK
                guard marks.count < Self.maxStackDepth else { throw fail("more than \(Self.maxStackDepth) open marks") }
                marks.append(stack.count)
            case UInt8(ascii: "0"): // POP
                _ = try pop()
            case UInt8(ascii: "1"): // POP_MARK
                _ = try popToMark()
            case UInt8(ascii: "2"): // DUP
                try push(try top())

            case UInt8(ascii: "}"): try push(try makeDict()) // EMPTY_DICT
            case UInt8(ascii: "]"): try push(try makeList([])) // EMPTY_LIST
            case UInt8(ascii: ")"): try push(try makeTuple([])) // EMPTY_TUPLE
            case 0x8F: try push(try makeList([])) // EMPTY_SET
            case UInt8(ascii: "t"): try push(try makeTuple(try popToMark())) // TUPLE
            case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                guard stack.count - count >= (marks.last ?? 0) else { throw fail("stack underflow") }
                let items = Array(stack.suffix(count))
                stack.removeLast(count)
                try push(try makeTuple(items))
            case UInt8(ascii: "l"): try push(try makeList(try popToMark())) // LIST
            case 0x91: try push(try makeTuple(try popToMark())) // FROZENSET
            case UInt8(ascii: "d"): // DICT
                let items = try popToMark()
                let dict = try makeDict()
                try setItems(items, in: dict)
                try push(dict)
            case UInt8(ascii: "s"): // SETITEM
                let value = try pop(), key = try pop()
                try setItems([key, value], in: try top())
            case UInt8(ascii: "u"): // SETITEMS
                let items = try popToMark()
                try setItems(items, in: try top())
            case UInt8(ascii: "a"): // APPEND
                let value = try pop()
                try append([value], to: try top())
            case UInt8(ascii: "e"), 0x90: // APPENDS, ADDITEMS (to a set)
                let items = try popToMark()
                try append(items, to: try top())

            case UInt8(ascii: "q"): try memoize(Int(try readByte())) // BINPUT
            case UInt8(ascii: "r"): try memoize(Int(try readInteger(UInt32.self))) // LONG_BINPUT
            case 0x94: try memoize(memo.count) // MEMOIZE
            case UInt8(ascii: "h"): try push(try recall(Int(try readByte()))) // BINGET
            case UInt8(ascii: "j"): try push(try recall(Int(try readInteger(UInt32.self)))) // LONG_BINGET

            case UInt8(ascii: "N"): try push(.none) // NONE
            case 0x88: try push(.bool(true)) // NEWTRUE
            case 0x89: try push(.bool(false)) // NEWFALSE
            case UInt8(ascii: "J"): try push(.int(Int(Int32(bitPattern: try readInteger(UInt32.self))))) // BININT
            case UInt8(ascii: "K"): try push(.int(Int(try readByte()))) // BININT1
            case UInt8(ascii: "M"): try push(.int(Int(try readInteger(UInt16.self)))) // BININT2
            case 0x8A: try push(try readLong(length: Int(try readByte()))) // LONG1
            case 0x8B: // LONG4
                let length = Int32(bitPattern: try readInteger(UInt32.self))
                guard length >= 0 else { throw fail("negative LONG4 length") }
                try push(try readLong(length: Int(length)))
            case UInt8(ascii: "G"): // BINFLOAT: big-endian IEEE double
                try push(.float(Double(bitPattern: try readInteger(UInt64.self).byteSwapped)))

            case UInt8(ascii: "X"): try push(.string(try readText(length: UInt64(try readInteger(UInt32.self))))) // BINUNICODE
            case 0x8C: try push(.string(try readText(length: UInt64(try readByte())))) // SHORT_BINUNICODE
            case 0x8D: try push(.string(try readText(length: try readInteger(UInt64.self)))) // BINUNICODE8
            // Python 2's byte strings; PyTorch loads them as UTF-8 text.
            case UInt8(ascii: "T"): try push(.string(try readText(length: UInt64(try readInteger(UInt32.self))))) // BINSTRING
            case UInt8(ascii: "U"): try push(.string(try readText(length: UInt64(try readByte())))) // SHORT_BINSTRING
            case UInt8(ascii: "B"): try push(.bytes(try read(UInt64(try readInteger(UInt32.self))))) // BINBYTES
            case UInt8(ascii: "C"): try push(.bytes(try read(UInt64(try readByte())))) // SHORT_BINBYTES
            case 0x8E, 0x96: try push(.bytes(try read(try readInteger(UInt64.self)))) // BINBYTES8, BYTEARRAY8

            case UInt8(ascii: "c"): // GLOBAL: "module\nname\n"
                let module = try readLine(), name = try readLine()
                try push(try loader.findGlobal(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(try loader.findGlobal(module: module, name: name))
            case UInt8(ascii: "R"), 0x81: // REDUCE, NEWOBJ: callable(*arguments)
                let arguments = try pop(), callable = try pop()
                guard let items = items(of: arguments) else { throw fail("call arguments are not a tuple") }
                try push(try loader.call(callable, items, machine: self))
            case 0x92: // NEWOBJ_EX: class, arguments, keyword arguments
                let keywords = try pop(), arguments = try pop(), callable = try pop()
                guard let items = items(of: arguments), case .dict(let id) = keywords, dicts[id].isEmpty else {
                    throw fail("NEWOBJ_EX with keyword arguments is not supported")
                }
                try push(try loader.call(callable, items, machine: self))
            case UInt8(ascii: "b"): // BUILD
                let state = try pop(), object = try pop()
                try push(try loader.build(object, state: state, machine: self))
            case UInt8(ascii: "Q"): // BINPERSID
                try push(try loader.persistentLoad(try pop(), machine: self))

            default:
                position -= 1
                throw fail("unsupported opcode 0x\(String(opcode, radix: 16))")
            }
        }
    }

    // MARK: Stack and memo

    private func push(_ value: PickleValue) throws {
        guard stack.count < Self.maxStackDepth else { throw fail("stack grows beyond \(Self.maxStackDepth) values") }
        stack.append(value)
    }

    private func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return stack.removeLast()
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return stack[stack.count - 1]
    }

    private func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK to pop to") }
        defer { stack.removeLast(stack.count - mark) }
        return Array(stack[mark...])
    }

    private func memoize(_ index: Int) throws {
        guard memo.count < Self.maxMemoEntries || memo[index] != nil else { throw fail("memo grows beyond \(Self.maxMemoEntries) entries") }
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw fail("memo entry \(index) was never stored") }
        return value
    }

    private func setItems(_ items: [PickleValue], in target: PickleValue) throws {
        guard case .dict(let id) = target else { throw fail("SETITEM(S) on something that is not a dict") }
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        for i in stride(from: 0, to: items.count, by: 2) { dicts[id].append((items[i], items[i + 1])) }
    }

    private func append(_ items: [PickleValue], to target: PickleValue) throws {
        guard case .list(let id) = target else { throw fail("APPEND(S) on something that is not a list") }
        sequences[id].append(contentsOf: items)
    }

    // MARK: Reading

    private func readByte() throws -> UInt8 {
        guard let byte = bytes.littleEndian(UInt8.self, at: position) else { throw fail("truncated pickle") }
        position += 1
        return byte
    }

    private func readInteger<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type) throws -> T {
        guard let value = bytes.littleEndian(type, at: position) else { throw fail("truncated pickle") }
        position += MemoryLayout<T>.size
        return value
    }

    private func read(_ length: UInt64) throws -> Data {
        guard length <= UInt64(bytes.count - position), let data = bytes.bytes(at: position, length: Int(length)) else {
            throw fail("a \(length)-byte value runs past the end of the pickle")
        }
        position += Int(length)
        return data
    }

    private func readText(length: UInt64) throws -> String {
        guard let text = String(data: try read(length), encoding: .utf8) else { throw fail("string is not valid UTF-8") }
        return text
    }

    /// A newline-terminated ASCII line (GLOBAL's module and name).
    private func readLine() throws -> String {
        let maxLength = 1024
        var line = [UInt8]()
        while true {
            let byte = try readByte()
            if byte == UInt8(ascii: "\n") { break }
            guard line.count < maxLength, byte.isASCIIPrintable else { throw fail("malformed GLOBAL name") }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// LONG1/LONG4: a little-endian two's complement integer of `length` bytes.
    private func readLong(length: Int) throws -> PickleValue {
        let data = [UInt8](try read(UInt64(length)))
        guard data.count <= 8 else { return .bigInt(data) }
        let negative = (data.last ?? 0) & 0x80 != 0
        var bits: UInt64 = negative ? ~0 : 0  // sign-extend to 64 bits
        for (i, byte) in data.enumerated() {
            bits &= ~(UInt64(0xFF) << (8 * i))
            bits |= UInt64(byte) << (8 * i)
        }
        return .int(Int(Int64(bitPattern: bits)))
    }
}

private extension UInt8 {
    var isASCIIPrintable: Bool { self >= 0x20 && self < 0x7F }
}
