import Datasets
import Foundation
import Tensor
import XCTest

/// Each RandAugment op, with fixed arguments, against timm's op functions on PIL images; timm's
/// level → argument rules; and the sampling that is ours.
final class RandAugmentTests: XCTestCase {
    private let fill: (UInt8, UInt8, UInt8) = (124, 116, 104)

    private func augmentation(_ op: String, _ args: [Double], _ interpolation: Interpolation) throws -> ImageAugmentation {
        switch op {
        case "AutoContrast": return .autoContrast
        case "Equalize": return .equalize
        case "Invert": return .invert
        case "PosterizeIncreasing": return .posterize(bits: Int(args[0]))
        case "SolarizeIncreasing": return .solarize(threshold: Int(args[0]))
        case "SolarizeAdd": return .solarizeAdd(amount: Int(args[0]), threshold: 128)
        case "ColorIncreasing": return .color(factor: args[0])
        case "ContrastIncreasing": return .contrast(factor: args[0])
        case "BrightnessIncreasing": return .brightness(factor: args[0])
        case "SharpnessIncreasing": return .sharpness(factor: args[0])
        case "Rotate": return .rotate(degrees: args[0], interpolation: interpolation)
        case "ShearX": return .shearX(factor: args[0], interpolation: interpolation)
        case "ShearY": return .shearY(factor: args[0], interpolation: interpolation)
        case "TranslateXRel": return .translateX(fraction: args[0], interpolation: interpolation)
        case "TranslateYRel": return .translateY(fraction: args[0], interpolation: interpolation)
        default: throw DatasetError(file: "references", "unknown op \(op)")
        }
    }

    /// Every op is deterministic in PIL, and reproduced exactly.
    func testEveryOpMatchesTimmExactly() throws {
        let source = try DataFixtures.image("augment.source")
        var checked = Set<String>()
        for key in try DataFixtures.keys(prefix: "augment.") where key != "augment.source" {
            let p = try DataFixtures.parameters(key)
            let op = p["op"] as! String
            let args = (p["args"] as? [NSNumber] ?? []).map(\.doubleValue)
            let interpolation = Interpolation(rawValue: p["interpolation"] as? String ?? "") ?? .bicubic
            let actual = try augmentation(op, args, interpolation).apply(to: source, fill: fill)
            assertImagesClose(actual, try DataFixtures.image(key), tolerance: 0, key)
            checked.insert(op)
        }
        XCTAssertEqual(checked.count, 15, "one fixture family per op of the increasing set: \(checked.sorted())")
    }

    /// timm's posterize at magnitude 10 keeps 0 bits: black (Pillow 13 itself would raise).
    func testPosterizeToZeroBitsIsBlack() throws {
        let out = ImageAugmentation.posterize(bits: 0).apply(to: try DataFixtures.image("augment.source"), fill: fill)
        XCTAssertTrue(out.pixels.allSatisfy { $0 == 0 })
    }

    func testLevelArgumentsMatchTimm() throws {
        let text = try XCTUnwrap(try DataFixtures.references().metadata["levels"])
        let table = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: [[NSNumber]]]
        XCTAssertEqual(Set(table.keys), Set(RandAugmentOp.standardSet.map(\.rawValue) + RandAugmentOp.increasingSet.map(\.rawValue))
            .subtracting(["AutoContrast", "Equalize", "Invert"]))
        for (name, rows) in table {
            let op = try XCTUnwrap(RandAugmentOp(rawValue: name))
            for row in rows {
                let magnitude = row[0].doubleValue
                for (negate, expected) in [(false, row[1].doubleValue), (true, row[2].doubleValue)] {
                    let actual = argument(op.augmentation(magnitude: magnitude, negate: negate, interpolation: .bicubic))
                    XCTAssertEqual(actual, expected, accuracy: 1e-12, "\(name) at magnitude \(magnitude), negate \(negate)")
                }
            }
        }
    }

    private func argument(_ a: ImageAugmentation) -> Double {
        switch a {
        case let .posterize(bits): return Double(bits)
        case let .solarize(threshold): return Double(threshold)
        case let .solarizeAdd(amount, _): return Double(amount)
        case let .color(f), let .contrast(f), let .brightness(f), let .sharpness(f): return f
        case let .rotate(d, _): return d
        case let .shearX(f, _), let .shearY(f, _), let .translateX(f, _), let .translateY(f, _): return f
        case .autoContrast, .equalize, .invert: return .nan
        }
    }

    func testSpecParsing() throws {
        let ra = try RandAugment(spec: "rand-m9-mstd0.5-inc1", fill: fill)
        XCTAssertEqual(ra.magnitude, 9)
        XCTAssertEqual(ra.magnitudeStd, 0.5)
        XCTAssertEqual(ra.magnitudeMax, 10)
        XCTAssertEqual(ra.layers, 2)
        XCTAssertEqual(ra.probability, 0.5)
        XCTAssertEqual(ra.ops, RandAugmentOp.increasingSet)
        XCTAssertEqual(ra.fill, [124, 116, 104])
        let other = try RandAugment(spec: "rand-n3-m7-p0.8-mmax12", fill: fill)
        XCTAssertEqual([other.layers, Int(other.magnitude), Int(other.magnitudeMax)], [3, 7, 12])
        XCTAssertEqual(other.ops, RandAugmentOp.standardSet)
        for bad in ["auto-m9", "rand-m9.5", "rand-x3", "rand-m", "rand-p1.5"] {
            XCTAssertThrowsError(try RandAugment(spec: bad, fill: fill), bad)
        }
        XCTAssertEqual(PixelNormalization.imagenet.meanLevels.0, 124)
        XCTAssertEqual(PixelNormalization.inception.meanLevels.2, 128)
    }

    /// The draws are ours, but their law is timm's: 2 ops with replacement from 15, each kept
    /// with probability 0.5, magnitude N(9, 0.5²) clipped to [0, 10], signs fair.
    func testSamplingFollowsTimmsDistribution() throws {
        let ra = try RandAugment(spec: "rand-m9-mstd0.5-inc1", fill: fill)
        var rng = SeededRandom(seed: 11)
        var applied = 0, rotations: [Double] = [], seen = Set<String>()
        let images = 4000
        for _ in 0..<images {
            for a in ra.draw(using: &rng) {
                applied += 1
                seen.insert(String(describing: a).prefix { $0 != "(" }.description)
                if case let .rotate(d, _) = a { rotations.append(d) }
            }
        }
        XCTAssertEqual(Double(applied) / Double(2 * images), 0.5, accuracy: 0.03)
        XCTAssertEqual(seen.count, 15, "every op of the increasing set is drawn: \(seen.sorted())")
        XCTAssertTrue(rotations.allSatisfy { abs($0) <= 30 })
        let magnitudes = rotations.map { abs($0) / 3 }
        let mean = magnitudes.reduce(0, +) / Double(magnitudes.count)
        XCTAssertEqual(mean, 9, accuracy: 0.1)
        XCTAssertEqual(Double(rotations.filter { $0 < 0 }.count) / Double(rotations.count), 0.5, accuracy: 0.1)
        var a = SeededRandom(seed: 3), b = SeededRandom(seed: 3)
        XCTAssertEqual(ra.draw(using: &a), ra.draw(using: &b))
    }
}
