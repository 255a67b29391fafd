/// A parser for the few Python literals a `.npy` header uses: dicts with string keys, strings,
/// integers (with Python 2's optional `L`), True/False/None, tuples and lists.
struct PythonLiteralParser {
    enum Literal: Equatable {
        case string(String), int(Int), bool(Bool), none
        case sequence([Literal])
        case dict([String: Literal])
    }

    struct SyntaxError: Error {}

    /// Nesting deeper than this is refused, so a hostile header cannot exhaust the stack.
    static let maxDepth = 16

    private let characters: [Character]
    private var position = 0

    init(text: String) { characters = Array(text) }

    /// Parses one literal that must fill the text (surrounding whitespace aside).
    mutating func parseWholeLiteral() throws -> Literal {
        let literal = try parseLiteral(depth: 0)
        skipWhitespace()
        guard position == characters.count else { throw SyntaxError() }
        return literal
    }

    private mutating func parseLiteral(depth: Int) throws -> Literal {
        guard depth < Self.maxDepth else { throw SyntaxError() }
        skipWhitespace()
        guard position < characters.count else { throw SyntaxError() }
        switch characters[position] {
        case "{":
            var dict: [String: Literal] = [:]
            for item in try parseItems(closing: "}", depth: depth, keyed: true) {
                guard case .string(let key) = item.key else { throw SyntaxError() }
                dict[key] = item.value
            }
            return .dict(dict)
        case "(": return .sequence(try parseItems(closing: ")", depth: depth, keyed: false).map(\.value))
        case "[": return .sequence(try parseItems(closing: "]", depth: depth, keyed: false).map(\.value))
        case "'", "\"":
            let quote = characters[position]
            guard let end = characters[(position + 1)...].firstIndex(of: quote) else { throw SyntaxError() }
            let text = String(characters[(position + 1)..<end])
            guard !text.contains("\\") else { throw SyntaxError() }  // escapes never occur in numpy headers
            position = end + 1
            return .string(text)
        case "-", "0"..."9":
            let start = position
            position += 1
            while position < characters.count, characters[position].isASCII, characters[position].isNumber { position += 1 }
            guard let value = Int(String(characters[start..<position])) else { throw SyntaxError() }
            if position < characters.count, characters[position] == "L" { position += 1 }
            return .int(value)
        default:
            for (word, literal) in [("True", Literal.bool(true)), ("False", .bool(false)), ("None", .none)]
            where characters[position...].starts(with: word) {
                position += word.count
                return literal
            }
            throw SyntaxError()
        }
    }

    /// The comma-separated items up to `closing` (a trailing comma is allowed); `keyed` items
    /// are `key: value` pairs.
    private mutating func parseItems(closing: Character, depth: Int, keyed: Bool) throws -> [(key: Literal?, value: Literal)] {
        position += 1  // the opening bracket
        var items: [(key: Literal?, value: Literal)] = []
        while true {
            skipWhitespace()
            guard position < characters.count else { throw SyntaxError() }
            if characters[position] == closing { position += 1; return items }
            var key: Literal?
            if keyed {
                key = try parseLiteral(depth: depth + 1)
                skipWhitespace()
                guard position < characters.count, characters[position] == ":" else { throw SyntaxError() }
                position += 1
            }
            items.append((key, try parseLiteral(depth: depth + 1)))
            skipWhitespace()
            guard position < characters.count else { throw SyntaxError() }
            if characters[position] == "," { position += 1 } else if characters[position] != closing { throw SyntaxError() }
        }
    }

    private mutating func skipWhitespace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }
}
