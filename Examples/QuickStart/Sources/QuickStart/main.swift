import Foundation
import VPEFTBench

// 1. A backbone. With a real checkpoint:
//      let vit = try VisionTransformer.load(model: "vit_base_patch16_224", weights: URL(fileURLWithPath: "model.safetensors"))
//    Here a tiny random ViT, so that the example runs anywhere in a second.
var config = try VisionTransformerConfig.preset("vit_tiny_patch16_224")
(config.imgSize, config.patchSize, config.embedDim, config.depth, config.numHeads) = (32, 8, 64, 2, 2)
let vit = try VisionTransformer(config, seed: 7)

// 2. Attach a method (Hugging Face PEFT's `get_peft_model`): the backbone is frozen, LoRA's
//    low-rank factors on q and v and a new 10-class head train.
let lora = try MethodRegistry.method(named: "lora", options: ["rank": 4, "alpha": 4])
let model = try PEFTModel(backbone: vit, method: lora, classes: 10)
print("LoRA: \(model.trainableParameterCount()) trainable parameters (\(model.trainableParameterCount(includingHead: true)) with the head)")

// 3. Train a few steps.
let optimizer = AdamW([ParameterGroup(model.trainableTensors.map(\.tensor), weightDecay: 1e-4)], learningRate: 1e-2)
var rng = SeededRandom(seed: 1)
let images = Tensor.normal([8, 3, 32, 32], using: &rng), labels = (0..<8).map { $0 % 10 }
var losses: [Float] = []
for step in 1...5 {
    optimizer.zeroGrad()
    let loss = crossEntropy(model(images), targets: labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.scalars[0])
    print("step \(step): loss \(loss.scalars[0])")
}

// 4. Save the adapter and load it onto a fresh copy of the backbone: same predictions.
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-adapter-\(getpid())")
try AdapterFile.save(model, backboneFingerprint: Fingerprint.of(vit), to: folder)
let restored = try AdapterFile.load(folder, onto: try VisionTransformer(config, seed: 7))
let difference = zip(model(images).scalars, restored(images).scalars).map { abs($0 - $1) }.max()!
print("adapter saved to \(folder.path); reloaded logits differ by \(difference)")
try? FileManager.default.removeItem(at: folder)
guard losses.last! < losses.first!, difference == 0 else { fatalError("the example did not train or did not round-trip") }
