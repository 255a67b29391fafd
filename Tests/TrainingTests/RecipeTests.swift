import Foundation
import Models
import PEFT
import Tensor
import Training
import XCTest

/// The two training recipes of configs/methods/*.yaml as `vpeft train` resolves them: values of a
/// few tasks per method under each recipe (every expected number is the one the cited official
/// file holds), the fallback of methods the V-PETL code never ran, and the optimiser groups a
/// recipe produces.
final class RecipeTests: XCTestCase {
    static let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("configs")

    func resolve(_ method: String, _ dataset: String, recipe: String? = nil, overrides: [String] = []) throws -> (TrainingConfig, ConfigLoader) {
        var flags: [String: Any] = ["method": method, "dataset": dataset]
        if let recipe { flags["recipe"] = recipe }
        return try RunConfiguration.resolve(configFile: nil, flags: flags, overrides: overrides, configsFolder: Self.configs)
    }

    func option(_ config: TrainingConfig, _ key: String) -> JSONValue? { config.methodOptions[key] }

    // MARK: - Recipe selection and fallback

    func testDefaultRecipeIsVPETLAndOfficialIsSelectable() throws {
        let (vpetl, loader) = try resolve("convpass", "vtab1k:svhn")
        XCTAssertEqual(vpetl.recipe, "vpetl")
        XCTAssertEqual(vpetl.lr, 1e-3)
        XCTAssertEqual(vpetl.weightDecay, 5e-3)          // the V-PETL table
        XCTAssertEqual(vpetl.labelSmoothing, 0.1)
        XCTAssertTrue(loader.origins["lr"]!.contains("(vpetl vtab1k.svhn)"), loader.origins["lr"]!)

        let (official, officialLoader) = try resolve("convpass", "vtab1k:svhn", recipe: "official")
        XCTAssertEqual(official.recipe, "official")
        XCTAssertEqual(official.weightDecay, 1e-4)        // convpass/vtab/train.py
        XCTAssertEqual(official.labelSmoothing, 0)
        XCTAssertFalse(official.trainAugmentation)
        XCTAssertEqual(option(official, "scale"), .number(100))
        XCTAssertEqual(option(official, "xavier_conv"), .bool(true))
        XCTAssertTrue(officialLoader.origins["weight_decay"]!.contains("(official vtab1k.svhn)"))
        XCTAssertEqual(officialLoader.origins["recipe"], "command line")
    }

    /// The benchmark's own tasks keep the paper's pipeline (ImageNet statistics, bilinear), said
    /// by the origin; data of the user's (not in the catalog) gets the backbone's preprocessing.
    func testBenchmarkTasksUseThePapersPipelineOtherDataTheModels() throws {
        let (vtab, loader) = try resolve("lora", "vtab1k:cifar100")
        XCTAssertEqual([vtab.normalization, vtab.interpolation], ["imagenet", "bilinear"])
        XCTAssertEqual(loader.origins["normalization"], "vtab1k protocol (the paper's pipeline)")
        let (fgvc, _) = try resolve("lora", "fgvc:cub")
        XCTAssertEqual([fgvc.normalization, fgvc.interpolation], ["imagenet", "bilinear"])
        let (own, _) = try resolve("lora", "vtab1k:my_photos")
        XCTAssertEqual([own.normalization, own.interpolation], ["model", "model"])
        // `model` becomes the backbone's values, by name where they have one.
        var config = own
        config.model = "efficientnet_lite0"
        let lite = try EfficientNetLite.load(model: "efficientnet_lite0", weights: nil)
        let resolved = TrainingSession.resolvingModelPreprocessing(config, lite.preprocessing)
        XCTAssertEqual([resolved.normalization, resolved.interpolation], ["efficientnet", "bicubic"])
        var custom = lite.preprocessing
        custom.mean = [0.1, 0.2, 0.3]
        XCTAssertEqual(TrainingSession.resolvingModelPreprocessing(config, custom).normalization, "model", "unnamed statistics stay the model's")
        XCTAssertEqual(try TrainingSession.normalization("model", model: custom).mean, [0.1, 0.2, 0.3])
        XCTAssertThrowsError(try resolve("lora", "vtab1k:my_photos", overrides: ["normalization=imagnet"])) { error in
            XCTAssertTrue("\(error)".contains("normalization"), "\(error)")
        }
    }

    /// SSF's V-PETL settings never ran (the seed's model file is a VPT-shallow copy): vpetl
    /// resolves to SSF's own recipe and the origin of `recipe` says why.
    func testPlaceholderMethodsFallBackToOfficial() throws {
        for method in ["ssf", "fact_tt", "rep_adapter", "noah", "hydra", "gps"] {
            let (config, loader) = try resolve(method, "vtab1k:dtd", recipe: "vpetl")
            XCTAssertEqual(config.recipe, "official", method)
            XCTAssertTrue(loader.origins["recipe"]!.contains("vpetl falls back to official"), "\(method): \(loader.origins["recipe"]!)")
            XCTAssertEqual(config, try resolve(method, "vtab1k:dtd", recipe: "official").0, method)
        }
        // … and a method without a separate release resolves `official` to its V-PETL settings.
        let (linear, loader) = try resolve("linear", "vtab1k:cifar100", recipe: "official")
        XCTAssertEqual(linear.recipe, "vpetl")
        XCTAssertTrue(loader.origins["recipe"]!.contains("official falls back to vpetl"))
        XCTAssertEqual(linear.lr, 1e-3)
    }

    func testSCTOfficialRecipeInitialisesLikeTheReleasedModel() throws {
        XCTAssertEqual(option(try resolve("sct", "vtab1k:dtd").0, "weight_init"), nil, "vpetl: the default zero init")
        XCTAssertEqual(option(try resolve("sct", "vtab1k:dtd", recipe: "official").0, "weight_init"), .string("trunc_normal"))
    }

    /// A method without a recipe file: the recipe is recorded, and its origin says it set nothing.
    func testARecipeWithoutAFileSaysItSetsNothing() throws {
        let (config, loader) = try resolve("mona", "vtab1k:dtd", recipe: "official")
        XCTAssertEqual(config.recipe, "official")
        XCTAssertTrue(loader.origins["recipe"]!.contains("the official recipe sets nothing for mona"), loader.origins["recipe"]!)
    }

    func testBadRecipeIsAClearError() throws {
        XCTAssertThrowsError(try resolve("lora", "vtab1k:cifar100", overrides: ["recipe=paper"])) {
            XCTAssertTrue("\($0)".contains("recipe = paper: must be vpetl or official"), "\($0)")
        }
    }

    /// A user's own values still win over the recipe's.
    func testUserLayersOverrideTheRecipe() throws {
        let (config, loader) = try resolve("ssf", "vtab1k:cifar100", overrides: ["lr=2e-3", "decay_all=true"])
        XCTAssertEqual(config.lr, 2e-3)
        XCTAssertTrue(config.decayAll)
        XCTAssertEqual(loader.origins["lr"], "--set")
        XCTAssertEqual(config.recipe, "official")
    }

    // MARK: - Per-task values (each from the file the yaml comment names)

    func testSSFOfficialRecipe() throws {
        let (cifar, _) = try resolve("ssf", "vtab1k:cifar100")
        XCTAssertEqual([cifar.lr, cifar.weightDecay, cifar.minLR, cifar.warmupLR, cifar.dropPath, cifar.labelSmoothing], [5e-3, 5e-5, 1e-8, 1e-7, 0, 0])
        XCTAssertEqual([cifar.batchSize, cifar.epochs, cifar.warmupEpochs], [128, 200, 10])
        XCTAssertFalse(cifar.decayAll)
        XCTAssertFalse(cifar.trainAugmentation)
        let (eurosat, _) = try resolve("ssf", "vtab1k:eurosat")
        XCTAssertEqual([eurosat.lr, eurosat.weightDecay, eurosat.dropPath], [3e-3, 5e-2, 0.2])
        XCTAssertEqual(eurosat.batchSize, 64)        // 32 per GPU × 2 GPUs
    }

    func testHydraOfficialRecipe() throws {
        let (dmlab, _) = try resolve("hydra", "vtab1k:dmlab")
        XCTAssertEqual(option(dmlab, "rank"), .number(2))
        XCTAssertEqual(option(dmlab, "scale"), .number(4.5))
        XCTAssertEqual(option(dmlab, "dropout"), .number(0.2))
        XCTAssertEqual([dmlab.lr, dmlab.weightDecay], [1e-3, 1e-4])
        XCTAssertEqual(dmlab.batchSize, 64)
        let (flowers, _) = try resolve("hydra", "vtab1k:oxford_flowers102")
        XCTAssertEqual(option(flowers, "dropout"), .number(0))
        XCTAssertEqual(option(flowers, "scale"), .number(0.1))
        let (azi, _) = try resolve("hydra", "vtab1k:smallnorb_azi")
        XCTAssertEqual([azi.lr, azi.weightDecay], [5e-3, 1e-5])
        XCTAssertEqual(option(azi, "scale"), .number(3))
    }

    func testGPSOfficialRecipeHasNoWeightDecay() throws {
        let (pcam, _) = try resolve("gps", "vtab1k:patch_camelyon")
        XCTAssertEqual(pcam.weightDecay, 0)
        XCTAssertEqual(option(pcam, "k"), .number(2))
        XCTAssertEqual([pcam.lr, pcam.minLR, pcam.warmupLR], [1.5e-3, 1e-8, 1e-7])
        XCTAssertEqual(pcam.batchSize, 16)
        let (cifar, _) = try resolve("gps", "vtab1k:cifar100")
        XCTAssertEqual(cifar.lr, 1e-2)
        XCTAssertEqual(option(cifar, "k"), .number(1))
    }

    /// The RepAdapter scales the finding quotes for cifar / dmlab / smallnorb_azi are the
    /// RepAdapter-attn configs (configs/repattn/), not repblock: those tasks keep scale 1.0.
    func testRepAdapterScalesComeFromRepblockConfigsOnly() throws {
        for (task, scale) in [("svhn", 10.0), ("caltech101", 5.0), ("oxford_iiit_pet", 0.1), ("cifar100", 1.0), ("dmlab", 1.0), ("smallnorb_azi", 1.0)] {
            let (config, _) = try resolve("rep_adapter", "vtab1k:\(task)")
            XCTAssertEqual(option(config, "scale"), .number(scale), task)
            XCTAssertEqual([config.lr, config.weightDecay], [1e-3, 1e-4], task)
        }
    }

    func testAdaptFormerRecipesDifferInTheAdapter() throws {
        let (vpetl, _) = try resolve("adaptformer", "vtab1k:dtd")
        XCTAssertEqual(option(vpetl, "scale"), .number(1))
        XCTAssertNil(option(vpetl, "layernorm"))          // the method's default: with the LayerNorm
        let (official, _) = try resolve("adaptformer", "vtab1k:dtd", recipe: "official")
        XCTAssertEqual(option(official, "scale"), .number(0.1))
        XCTAssertEqual(option(official, "layernorm"), .bool(false))
        XCTAssertEqual(official.lr, vpetl.lr)
    }

    func testVPTDeepOfficialPromptsAndDropout() throws {
        let (dmlab, _) = try resolve("vpt_deep", "vtab1k:dmlab", recipe: "official")
        XCTAssertEqual(option(dmlab, "prompts"), .number(100))
        XCTAssertEqual(option(dmlab, "dropout"), .number(0.1))
        XCTAssertEqual(dmlab.optimizer, "sgd")
        XCTAssertEqual([dmlab.lr, dmlab.weightDecay], [0.25, 1e-3])
        let (sun, _) = try resolve("vpt_deep", "vtab1k:sun397", recipe: "official")
        XCTAssertEqual(option(sun, "prompts"), .number(5))
        XCTAssertEqual(sun.batchSize, 128)
        let (vpetl, _) = try resolve("vpt_deep", "vtab1k:dmlab")
        XCTAssertEqual(option(vpetl, "prompts"), .number(10))
        XCTAssertEqual(option(vpetl, "dropout"), nil)
    }

    func testNOAHOfficialInitAndPromptDropout() throws {
        let (config, _) = try resolve("noah", "vtab1k:kitti")
        XCTAssertEqual(config.initStyle, "vpetl")
        XCTAssertEqual(option(config, "prompt_dropout"), .number(0.1))
        XCTAssertEqual(option(config, "subnet"), .string("kitti"))
    }

    // MARK: - Optimiser parameter groups

    /// SSF under its recipe: no SSF tensor decays (all 1-D), only the head's weight, at 5e-5;
    /// Hydra's recipe decays every trainable tensor in one group.
    func testRecipeParameterGroups() throws {
        let tiny = TrainerTests.tiny
        func groups(_ method: String, _ dataset: String) throws -> (PEFTModel, [(Set<ObjectIdentifier>, Float)]) {
            var (config, _) = try resolve(method, dataset)
            config.methodOptions = [:]          // the tiny model keeps the methods' own sizes
            let model = try PEFTModel(backbone: try VisionTransformer.load(model: tiny), method: try MethodRegistry.method(named: method), classes: 5, seed: 3)
            let trainer = Trainer(model: model, config: config, train: SyntheticImages(), eval: nil, folder: nil, progress: ProgressReporter(quiet: true))
            return (model, trainer.optimizer.groups.map { (Set($0.parameters.map(ObjectIdentifier.init)), $0.weightDecay) })
        }
        let (ssf, ssfGroups) = try groups("ssf", "vtab1k:cifar100")
        let decayed = ssfGroups.filter { $0.1 > 0 }
        XCTAssertEqual(decayed.count, 1)
        XCTAssertEqual(decayed[0].1, 5e-5)
        let decayedNames = ssf.trainableTensors.filter { decayed[0].0.contains(ObjectIdentifier($0.tensor)) }.map(\.name)
        XCTAssertEqual(decayedNames, ["head.weight"])
        XCTAssertTrue(ssf.trainableTensors.filter { $0.name.contains("ssf_") }.allSatisfy { t in ssfGroups.contains { $0.1 == 0 && $0.0.contains(ObjectIdentifier(t.tensor)) } })

        let (hydra, hydraGroups) = try groups("hydra", "vtab1k:dtd")
        XCTAssertEqual(hydraGroups.count, 1)
        XCTAssertEqual(hydraGroups[0].1, 1e-4)
        XCTAssertEqual(hydraGroups[0].0.count, hydra.trainableTensors.count)
    }
}
