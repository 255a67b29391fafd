import ArgumentParser
import Datasets
import Foundation
import Models
import PEFT
import Tensor
import Training
import Viz

struct Visualize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viz",
        abstract: "Visualisations: t-SNE of pooled features, attention maps over images, predicted segmentation masks.",
        subcommands: [TSNECommand.self, AttentionCommand.self, SegmentationMasksCommand.self])
}

struct TSNECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsne",
        abstract: "t-SNE of a trained model's pooled features on a dataset split, coloured by class, to PNG/SVG.",
        discussion: "Exact t-SNE below 1,000 points, Barnes-Hut (θ = 0.5) above; PCA initialisation; deterministic for a seed.")

    @OptionGroup var trained: AdapterOptions
    @OptionGroup var data: EvaluationDataOptions
    @Option(help: "At most this many samples (the first ones of the split, in order).") var maxSamples = 1000
    @Option(help: "t-SNE perplexity.") var perplexity = 30.0
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Output image (.png or .svg).") var out = "tsne.png"

    func run() throws {
        let adapted = try AdaptedModel(adapter: trained.adapter)
        let (name, source) = try adapted.split(data.split, dataset: data.dataset, dataRoot: data.dataRoot)
        let loader = try DataLoader(source: source, pipeline: adapted.pipeline, options: DataLoaderOptions(batchSize: 32, shuffle: false))
        var features: [Tensor] = [], labels: [Int] = []
        let batches = loader.epoch(0)
        while labels.count < maxSamples, let batch = try batches.next() {
            features.append(withoutGradients { adapted.model.forward(batch.images).features })
            labels += batch.labels
        }
        let n = min(maxSamples, labels.count)
        let all = concat(features, dim: 0).narrowed(0, start: 0, length: n)
        print("embedding \(n) pooled features of dimension \(all.shape[1])…")
        let embedding = try TSNE(perplexity: perplexity, seed: seed).embed(all)
        let plot = EmbeddingScatter.plot(embedding: embedding, labels: Array(labels.prefix(n)), classNames: source.classNames,
                                         title: "t-SNE: \(adapted.config.method) on \(name)/\(data.split)")
        try plot.write(to: URL(fileURLWithPath: out))
        print("wrote \(out)")
    }
}

struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "CLS-to-patch attention of a ViT over input images, for the plain backbone and trained adapters side by side.",
        discussion: "Head-averaged attention of one block (default: the last), or attention rollout over all blocks (--rollout).")

    @Option(name: .customLong("image"), help: "Input images (repeatable; one row each).") var images: [String]
    @OptionGroup(title: "A ViT backbone for a 'pre-trained' column") var backbone: BackboneOptions
    @Option(name: .customLong("adapter"), help: "Trained adapter folders (repeatable; one column each).") var adapters: [String] = []
    @Option(help: "Block whose attention to show (negative counts from the end).") var block = -1
    @Flag(help: "Attention rollout (Abnar & Zuidema) instead of one block.") var rollout = false
    @Option(help: "Normalisation for the plain backbone: \(NormalizationName.allCases.map(\.rawValue).joined(separator: ", ")).") var normalization = NormalizationName.model
    @Option(help: "Side of each displayed image (the map is upsampled to it).") var displaySize = 224
    @Option(help: "Output image (.png).") var out = "attention.png"

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one --image") }
        guard displaySize > 0 else { throw ValidationError("--display-size must be positive") }
        guard backbone.model != nil || !adapters.isEmpty else { throw ValidationError("give --model and/or --adapter") }
    }

    func run() throws {
        var columns: [(caption: String, forward: (Tensor, Set<Int>) -> BackboneOutput, pipeline: ImagePipeline, vit: VisionTransformer)] = []
        if let model = backbone.model {
            guard let vit = try BackboneLoader.load(model: model, weights: backbone.weightsURL) as? VisionTransformer else {
                throw ValidationError("\(model) is not a ViT: attention maps need one")
            }
            let pipeline = try ImagePipeline.vtab1k(augment: false, interpolation: try TrainingSession.interpolation("model", model: vit.preprocessing),
                                                    normalization: try TrainingSession.normalization(normalization.rawValue, model: vit.preprocessing), size: vit.config.imgSize)
            columns.append(("pre-trained", { x, blocks in vit.forward(x, options: ForwardOptions(attentionBlocks: blocks)) }, pipeline, vit))
        }
        for adapter in adapters {
            let adapted = try AdaptedModel(adapter: adapter)
            guard let vit = adapted.model.backbone as? VisionTransformer else { throw ValidationError("\(adapter): its backbone is not a ViT") }
            columns.append((adapted.config.method, { x, blocks in adapted.model.forward(x, options: ForwardOptions(attentionBlocks: blocks)) }, adapted.pipeline, vit))
        }
        let display = try ImagePipeline.vtab1k(augment: false, interpolation: .bicubic, normalization: .none, size: displaySize)
        var rows: [[RGBImage]] = []
        for path in images {
            let decoded = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path))
            let shown = RGBImage(try display.prepare(decoded, source: path))
            var row: [RGBImage] = []
            for column in columns {
                let depth = column.vit.blocks.count
                let wanted = rollout ? Set(0..<depth) : [block < 0 ? depth + block : block]
                guard wanted.allSatisfy({ (0..<depth).contains($0) }) else { throw ValidationError("--block \(block): the model has \(depth) blocks") }
                let prepared = try column.pipeline.prepare(decoded, source: path)
                let x = TensorPacker(normalization: column.pipeline.normalization).tensor(prepared)
                let output = withoutGradients { column.forward(x.reshaped([1] + x.shape), wanted) }
                let grid = column.vit.config.gridSize
                let map: AttentionMap
                if rollout {
                    let layers = (0..<depth).map { output.attention[$0]! }
                    let n = layers[0].shape[2]
                    map = AttentionRollout.patchMap(AttentionRollout.rollout(layers: layers), rows: grid, columns: grid, token: 0, prefixTokens: n - grid * grid)
                } else {
                    let probs = output.attention[wanted.first!]!                     // [1, H, N, M]
                    let (heads, m) = (probs.shape[1], probs.shape[3])
                    var values = [Float](repeating: 0, count: grid * grid)
                    for h in 0..<heads {
                        let row = probs.data + h * probs.shape[2] * m            // query 0 (CLS)
                        for p in 0..<(grid * grid) { values[p] += row[m - grid * grid + p] / Float(heads) }
                    }
                    map = AttentionMap(rows: grid, columns: grid, values: values)
                }
                row.append(AttentionOverlay.render(image: shown, attention: map))
            }
            rows.append(row)
        }
        try PNG.write(ImageMontage.grid(rows, columnCaptions: columns.map(\.caption)), to: URL(fileURLWithPath: out))
        print("wrote \(out)")
    }
}

extension RGBImage {
    /// A decoded dataset image as a drawing canvas.
    init(_ image: RGB8Image) {
        self.init(width: image.width, height: image.height)
        pixels = image.pixels
    }
}
