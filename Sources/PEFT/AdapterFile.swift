import Foundation
import Models
import NN
import Tensor

/// A trained adapter on disk: `adapter.safetensors` (every trainable tensor, head included, by
/// name) and `adapter.json` (method, options, init, seed, classes, and the backbone's identity:
/// architecture, configuration and a fingerprint of its weights).
///
/// Loading rebuilds the method on the backbone with the same seed (so any frozen random parts
/// are identical) and then overwrites every trainable tensor from the file: the trained model
/// is reproduced bit for bit. A backbone with other weights or another shape is refused.
public enum AdapterFile {
    public static let format = "vpeft-adapter/1"

    public struct Manifest: Codable, Equatable {
        public var format: String
        public var method: String
        /// The method's options as JSON text (its keys vary by method).
        public var options: String
        public var initStyle: InitStyle
        public var seed: UInt64
        public var classes: Int
        public var backbone: BackboneIdentity
        public var trainableParameters: Int
        public var trainableParametersWithHead: Int

        enum CodingKeys: String, CodingKey {
            case format, method, options, seed, classes, backbone
            case initStyle = "init"
            case trainableParameters = "trainable_parameters"
            case trainableParametersWithHead = "trainable_parameters_with_head"
        }
    }

    public struct BackboneIdentity: Codable, Equatable {
        /// `Backbone.architectureIdentity`: the architecture-defining configuration as JSON.
        public var architecture: String
        /// FNV-1a over the names and bytes of the backbone weights the adapter was trained on
        /// (head excluded).
        public var fingerprint: String
    }

    /// Writes the adapter of `model`, whose backbone had `fingerprint` before training.
    public static func save(_ model: PEFTModel, backboneFingerprint fingerprint: String, to folder: URL) throws {
        let manifest = Manifest(
            format: format, method: type(of: model.method).name,
            options: String(decoding: try JSONSerialization.data(withJSONObject: MethodRegistry.options(of: model.method), options: [.sortedKeys]), as: UTF8.self),
            initStyle: model.initStyle, seed: model.seed, classes: model.classes,
            backbone: BackboneIdentity(architecture: model.backbone.architectureIdentity, fingerprint: fingerprint),
            trainableParameters: model.trainableParameterCount(), trainableParametersWithHead: model.trainableParameterCount(includingHead: true))
        let tensors = Dictionary(uniqueKeysWithValues: model.savedTensors.map { ($0.name, $0.tensor) })
        try SafeTensors.write(tensors, metadata: ["format": format], to: folder.appendingPathComponent("adapter.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(manifest), to: folder.appendingPathComponent("adapter.json"))
    }

    public static func readManifest(_ folder: URL) throws -> Manifest {
        let url = folder.appendingPathComponent("adapter.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { throw AdapterError("\(url.path): cannot read (is \(folder.path) an adapter folder?)") }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw AdapterError("\(url.path): not a valid adapter manifest (\(error))")
        }
        guard manifest.format == format else { throw AdapterError("\(url.path): format '\(manifest.format)', expected '\(format)'") }
        return manifest
    }

    /// Attaches the adapter in `folder` to `backbone` (its pre-trained weights, before any
    /// training), checking that it is the backbone the adapter was trained on. A run with a task
    /// head (segmentation) passes a head built as in training; its tensors and buffers load too.
    public static func load(_ folder: URL, onto backbone: any Backbone, classes expectedClasses: Int? = nil, head: (any TaskHead)? = nil) throws -> PEFTModel {
        let manifest = try readManifest(folder)
        guard backbone.architectureIdentity == manifest.backbone.architecture else {
            throw AdapterError("\(folder.path): adapter was trained on a different backbone architecture (\(manifest.backbone.architecture)) than the one given (\(backbone.architectureIdentity))")
        }
        let fingerprint = Fingerprint.of(backbone)
        guard fingerprint == manifest.backbone.fingerprint else {
            throw AdapterError("\(folder.path): adapter was trained on other backbone weights (fingerprint \(manifest.backbone.fingerprint), given \(fingerprint))")
        }
        if let expectedClasses, expectedClasses != manifest.classes {
            throw AdapterError("\(folder.path): adapter has \(manifest.classes) classes, the data has \(expectedClasses)")
        }
        let options = (try? JSONSerialization.jsonObject(with: Data(manifest.options.utf8))) as? [String: Any] ?? [:]
        let method = try MethodRegistry.method(named: manifest.method, options: options)
        if let head, head.classes != manifest.classes { throw AdapterError("\(folder.path): adapter has \(manifest.classes) classes, the head \(head.classes)") }
        let model = try head.map { try PEFTModel(backbone: backbone, method: method, head: $0, initStyle: manifest.initStyle, seed: manifest.seed) }
            ?? PEFTModel(backbone: backbone, method: method, classes: manifest.classes, initStyle: manifest.initStyle, seed: manifest.seed)
        let url = folder.appendingPathComponent("adapter.safetensors")
        let file = try SafeTensors.read(url)
        let expected = model.savedTensors
        let names = Set(expected.map(\.name))
        let missing = names.subtracting(file.tensors.keys).sorted(), extra = Set(file.tensors.keys).subtracting(names).sorted()
        guard missing.isEmpty && extra.isEmpty else {
            throw AdapterError("\(url.path): tensors do not match method \(manifest.method): missing \(missing), unexpected \(extra)")
        }
        for (name, tensor) in expected {
            let stored = file.tensors[name]!
            guard stored.shape == tensor.shape else { throw AdapterError("\(url.path): tensor '\(name)' has shape \(stored.shape), expected \(tensor.shape)") }
            tensor.data.update(from: stored.data, count: tensor.count)
        }
        do { try method.validateState(of: model) } catch { throw AdapterError("\(url.path): \(error)") }
        return model
    }
}

public struct AdapterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fingerprint of a backbone's weights (names and exact bytes; the head excluded), and of
/// the state that is not a parameter but shapes the function: EfficientNet's BatchNorm running
/// statistics (a ViT has none, so its fingerprints are what they always were).
public enum Fingerprint {
    public static func of(_ model: any Backbone) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        let head = headTensors(of: model)
        let buffers = (model as? EfficientNetLite)?.namedBuffers ?? []
        for (name, tensor) in model.namedParameters.filter({ !head.contains(ObjectIdentifier($0.tensor)) }) + buffers {
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            // Whole 32-bit words at a time: the bytes of each float in one step.
            for i in 0..<tensor.count { hash = (hash ^ UInt64(tensor.data[i].bitPattern)) &* 0x100_0000_01B3 }
        }
        return String(hash, radix: 16)
    }
}
