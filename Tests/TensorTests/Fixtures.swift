import Foundation
import Tensor
import XCTest

/// Reference cases written by scripts/reference/make_op_fixtures.py (PyTorch), see
/// scripts/reference/FIXTURES.md for the layout: `C.in0…`, `C.out`, `C.gout`, `C.grad0…`, and
/// the op and its parameters as JSON in the metadata under the case name.
struct FixtureCase {
    let name: String
    let op: String
    let params: [String: Any]
    let file: SafeTensors.File

    subscript(_ suffix: String) -> Tensor? { file.tensors["\(name).\(suffix)"] }

    var inputs: [Tensor] {
        var result: [Tensor] = []
        while let t = self["in\(result.count)"] { result.append(t) }
        return result
    }

    func int(_ key: String) -> Int { (params[key] as! NSNumber).intValue }
    func float(_ key: String) -> Float { (params[key] as! NSNumber).floatValue }
    func double(_ key: String) -> Double { (params[key] as! NSNumber).doubleValue }
    func bool(_ key: String) -> Bool { (params[key] as? NSNumber)?.boolValue ?? false }
    func ints(_ key: String) -> [Int] { (params[key] as! [NSNumber]).map(\.intValue) }
    func floats(_ key: String) -> [Float] { (params[key] as! [NSNumber]).map(\.floatValue) }
}

enum Fixtures {
    /// The fixture folder of the TensorTests target (shared by the other test targets).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func cases(_ file: String) throws -> [FixtureCase] {
        let url = folder.appendingPathComponent("\(file).safetensors")
        let contents = try SafeTensors.read(url)
        return try contents.metadata.keys.sorted().map { name in
            let json = try JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as! [String: Any]
            return FixtureCase(name: name, op: json["op"] as! String, params: json, file: contents)
        }
    }
}

/// |a − b| ≤ atol + rtol·|b| elementwise (numpy's allclose), with a message naming the worst entry.
func assertClose(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count, actual.shape == expected.shape || (actual.count == 1 && expected.count == 1) else {
        XCTFail("\(what): shape \(actual.shape) != expected \(expected.shape)", file: file, line: line)
        return
    }
    var worst = 0, worstExcess: Float = 0
    for i in 0..<actual.count {
        let a = actual.data[i], e = expected.data[i]
        let excess = Swift.abs(a - e) - (atol + rtol * Swift.abs(e))
        if excess > worstExcess || a.isNaN != e.isNaN { worst = i; worstExcess = Swift.max(excess, .infinity * (a.isNaN ? 1 : 0)) }
    }
    if worstExcess > 0 {
        XCTFail("\(what): element \(worst) is \(actual.data[worst]), expected \(expected.data[worst]) (rtol \(rtol), atol \(atol))",
                file: file, line: line)
    }
}
