import Foundation
import NN
import Tensor
import XCTest

/// Optimisers and schedules against torch.optim / timm.scheduler fixture values.
final class OptimizerParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TensorTests/Fixtures")

    private func cases(_ file: String) throws -> [(name: String, params: [String: Any], file: SafeTensors.File)] {
        let contents = try SafeTensors.read(Self.fixtures.appendingPathComponent("\(file).safetensors"))
        return try contents.metadata.keys.sorted().map { name in
            (name, try JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as! [String: Any], contents)
        }
    }

    func testOptimiserStepsMatchPyTorch() throws {
        var checked = 0
        for (name, p, file) in try cases("optim") {
            let num = { (key: String) in (p[key] as! NSNumber).floatValue }
            if p["op"] as! String == "clip_grad_norm" {
                let a = file.tensors["\(name).in0"]!.copy(), b = file.tensors["\(name).in1"]!.copy()
                let pa = Tensor.zeros(a.shape), pb = Tensor.zeros(b.shape)
                pa.grad = a; pb.grad = b
                let norm = clipGradientNorm([pa, pb], maxNorm: num("max_norm"))
                XCTAssertEqual(norm, file.tensors["\(name).total_norm"]!.item, accuracy: 1e-5 * norm, name)
                XCTAssertEqual(pa.grad!.scalars, file.tensors["\(name).out0"]!.scalars, accuracy: 1e-6, name)
                XCTAssertEqual(pb.grad!.scalars, file.tensors["\(name).out1"]!.scalars, accuracy: 1e-6, name)
                checked += 1
                continue
            }
            let param = file.tensors["\(name).in0"]!.copy().trainable()
            let grads = file.tensors["\(name).in1"]!, expected = file.tensors["\(name).out"]!
            let steps = grads.shape[0], n = param.count
            let optimizer: Optimizer
            switch p["op"] as! String {
            case "adamw":
                let betas = (p["betas"] as! [NSNumber]).map(\.floatValue)
                optimizer = AdamW([ParameterGroup([param], weightDecay: num("weight_decay"))], learningRate: num("lr"),
                                  beta1: betas[0], beta2: betas[1], epsilon: num("eps"))
            case "sgd":
                optimizer = SGD([ParameterGroup([param], weightDecay: num("weight_decay"))], learningRate: num("lr"),
                                momentum: num("momentum"), dampening: num("dampening"), nesterov: (p["nesterov"] as! NSNumber).boolValue)
            default:
                XCTFail("unknown optimiser case \(name)"); continue
            }
            for t in 0..<steps {
                param.grad = Tensor(shape: [n], Array(grads.scalars[(t * n)..<((t + 1) * n)]))
                optimizer.step()
                let want = Array(expected.scalars[(t * n)..<((t + 1) * n)])
                for i in 0..<n {
                    XCTAssertEqual(param.data[i], want[i], accuracy: 1e-6 + 1e-5 * Swift.abs(want[i]), "\(name) step \(t) [\(i)]")
                }
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
    }

    func testSchedulesMatchTimm() throws {
        var checked = 0
        for (name, p, file) in try cases("schedules") {
            let d = { (key: String) in (p[key] as! NSNumber).doubleValue }
            let i = { (key: String) in (p[key] as! NSNumber).intValue }
            let b = { (key: String) in (p[key] as? NSNumber)?.boolValue ?? false }
            let schedule: LearningRateSchedule
            switch p["op"] as! String {
            case "cosine":
                schedule = .cosine(base: d("base_lr"), tInitial: i("t_initial"), warmupT: i("warmup_t"), lrMin: d("lr_min"),
                                   warmupLRInit: d("warmup_lr_init"), warmupPrefix: b("warmup_prefix"))
            case "step_lr":
                schedule = .step(base: d("base_lr"), decayT: i("decay_t"), decayRate: d("decay_rate"), warmupT: i("warmup_t"),
                                 warmupLRInit: d("warmup_lr_init"), warmupPrefix: b("warmup_prefix"))
            default:
                XCTFail("unknown schedule case \(name)"); continue
            }
            let expected = file.tensors["\(name).out64"]!
            for t in 0..<expected.count {
                let want = Double(expected.data[t])
                XCTAssertEqual(schedule.value(at: t), want, accuracy: 1e-7 * Swift.abs(want) + 1e-12, "\(name) t=\(t)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 4)
    }

    /// The V-PETL protocol's worked values (docs/protocols.md, "Learning-rate schedule").
    func testVPETLScheduleValues() {
        let s = LearningRateSchedule.cosine(base: 1e-3, tInitial: 100, warmupT: 10, lrMin: 1e-5, warmupLRInit: 1e-6)
        XCTAssertEqual(s.value(at: 0), 1e-6, accuracy: 1e-15)
        XCTAssertEqual(s.value(at: 5), 1e-6 + 5 * (1e-3 - 1e-6) / 10, accuracy: 1e-15)
        XCTAssertEqual(s.value(at: 10), 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + cos(Double.pi * 10 / 100)), accuracy: 1e-15)
        XCTAssertEqual(s.value(at: 100), 1e-5, accuracy: 1e-15)
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, _ message: String) {
    XCTAssertEqual(a.count, b.count, message)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, message) }
}
