import Datasets
import Foundation

/// Resolves a run's configuration from its layers, later ones winning:
///   1. the dataset's protocol defaults (for the benchmark's own VTAB-1k and FGVC tasks, the paper's
///      pipeline: ImageNet statistics and bilinear resizing whatever the backbone; the VTAB-1k
///      catalog's lr, wd, smoothing, augmentation),
///   2. the method's recipe (`configs/methods/<method>.yaml`, the `recipe` key's recipe: its
///      `defaults`, then the entry for the dataset),
///   3. the user's `--config` file,
///   4. the command's flags,
///   5. `--set key=value`.
/// Layers 1–2 depend on the method, dataset and recipe, which layers 3–5 may set, so those are
/// read first. When the method's file sends the asked recipe to another one (`fallback`), the
/// resolved `recipe` is the one used, and its origin says why.
public enum RunConfiguration {
    public static func resolve(configFile: URL?, flags: [String: Any], overrides: [String], configsFolder: URL?) throws -> (TrainingConfig, ConfigLoader) {
        var user = ConfigLoader()
        if let configFile { try user.apply(file: configFile) }
        try user.apply(flags, from: "command line")
        try user.apply(overrides: overrides)
        let method = user.values["method"] as? String ?? TrainingConfig().method
        let dataset = user.values["dataset"] as? String ?? TrainingConfig().dataset
        let recipe = user.values["recipe"].map { "\($0)" } ?? TrainingConfig().recipe
        let (suite, name) = try DatasetReference.parse(dataset)

        var loader = ConfigLoader()
        // The paper's pipeline (V-PETL's VTAB-1k code, VPT's FGVC code) normalises every backbone's
        // input with ImageNet statistics after a bilinear resize: its tasks keep it, so results
        // compare with the paper's. Other data (a folder imported with `vpeft data import`) gets
        // the backbone's own preprocessing (`model`).
        let isBenchmarkTask = suite == "vtab1k" ? VTAB1kCatalog.standard.task(named: name) != nil : suite == "fgvc"
        if isBenchmarkTask {
            try loader.apply(["normalization": "imagenet", "interpolation": "bilinear"], from: "\(suite) protocol (the paper's pipeline)")
        }
        if suite == "vtab1k", let task = VTAB1kCatalog.standard.task(named: name) {
            let h = VTAB1kCatalog.standard.hyperparameters(task: task, method: method)
            try loader.apply(["lr": h.learningRate, "weight_decay": h.weightDecay, "label_smoothing": task.labelSmoothing,
                              "train_augmentation": task.trainAugmentation], from: "VTAB-1k catalog (\(task.name))")
        }
        var fallback: (recipe: String, note: String)?
        if let configsFolder, TrainingConfig.recipes.contains(recipe) {
            let file = configsFolder.appendingPathComponent("methods/\(method).yaml")
            if FileManager.default.fileExists(atPath: file.path) {
                let resolution = try MethodRecipes(file: file).resolve(recipe: recipe, suite: suite, name: name)
                for layer in resolution.layers { try loader.apply(layer.values, from: layer.source) }
                if let note = resolution.fallbackNote { fallback = (resolution.recipe, "\(file.path): \(note)") }
            } else {
                // Said, not silent: without a recipe file the recipe changes nothing for this method.
                fallback = (recipe, "no \(file.path): the \(recipe) recipe sets nothing for \(method) beyond the dataset's protocol defaults")
            }
        }
        if let configFile { try loader.apply(file: configFile) }
        try loader.apply(flags, from: "command line")
        try loader.apply(overrides: overrides)
        if let fallback { try loader.apply(["recipe": fallback.recipe], from: fallback.note) }
        return (try loader.resolve(), loader)
    }

    /// Where the repository's `configs/` folder is: `$VPEFT_CONFIGS`, else `./configs`, else
    /// next to the executable's repository checkout (`.build/<config>/vpeft` → `configs`).
    public static func configsFolder(executable: String = CommandLine.arguments[0]) -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["VPEFT_CONFIGS"] { candidates.append(URL(fileURLWithPath: env)) }
        candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("configs"))
        let exe = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("configs"))
        return candidates.first { fm.fileExists(atPath: $0.appendingPathComponent("methods").path) }
    }
}

/// `suite:name` dataset references (`vtab1k:cifar100`, `fgvc:cub`, `vtab1k:textile` for an
/// imported task in the VTAB-1k layout; segmentation: `ade20k:ADEChallengeData2016`,
/// `voc:VOC2012`, `seglist:NAME` — the folder under the data root).
public enum DatasetReference {
    public static let suites = ["vtab1k", "fgvc"] + VideoTrainingData.suites + segmentationSuites
    public static let segmentationSuites = ["ade20k", "voc", "seglist"]

    /// Short FGVC names (as in configs/methods) → the catalog's folder names.
    public static let fgvcNames = ["cub": "CUB_200_2011", "nabirds": "nabirds", "oxford_flowers": "OxfordFlower",
                                   "stanford_dogs": "StanfordDogs", "stanford_cars": "StanfordCars"]

    public static func fgvcCatalogName(_ name: String) -> String { fgvcNames[name] ?? name }

    /// A list dataset's `classes.txt`: one name per line in label order, blank lines skipped; nil
    /// when it cannot be read (each layout says what that means for it).
    static func classNames(in file: URL) -> [String]? {
        (try? String(contentsOf: file, encoding: .utf8)).map {
            $0.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    public static func parse(_ text: String) throws -> (suite: String, name: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, suites.contains(parts[0]), !parts[1].isEmpty else {
            throw ConfigError("dataset '\(text)': expected suite:name with suite one of \(suites.joined(separator: ", ")) (e.g. vtab1k:cifar100)")
        }
        return (parts[0], parts[1])
    }
}
