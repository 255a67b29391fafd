import ArgumentParser
import Datasets
import Foundation
import Models
import Tensor
import Training
import Viz

struct SegmentationMasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segmentation",
        abstract: "Predicted masks of trained segmentation adapters beside the images and true masks: one row per test image, to PNG.",
        discussion: """
        Columns: the image, its true mask, then each adapter's predicted mask (as its run evaluates: \
        the run's inference and preprocessing). Masks use Pascal VOC's palette (0 black, 1 dark red, \
        2 green, …; ignored pixels white). Images come from the first adapter's dataset split.
        """)

    @Option(name: .customLong("adapter"), help: "Trained segmentation adapter folders (repeatable; one column each).") var adapters: [String]
    @OptionGroup var data: EvaluationDataOptions
    @Option(help: "The first this many images of the split.") var count = 4
    @Option(help: "Show every pixel as a block of this side.") var scale = 2
    @Option(help: "Output image (.png).") var out = "segmentation.png"

    func validate() throws {
        guard !adapters.isEmpty else { throw ValidationError("give at least one --adapter") }
        guard count > 0 else { throw ValidationError("--count must be positive") }
        guard scale > 0 else { throw ValidationError("--scale must be positive") }
    }

    func run() throws {
        let segmenters: [TrainedSegmenter] = try adapters.map { try TrainedSegmenter(adapter: URL(fileURLWithPath: $0)) }
        let splits = try segmenters.map { try $0.split(data.split, dataset: data.dataset, dataRoot: data.dataRoot).source }
        var rows: [[RGBImage]] = []
        let streams = try splits.map { try $0.batches(epoch: 0) }
        for segmenter in segmenters {
            segmenter.objective.segmenter.setTraining(false)
            segmenter.model.beginPass(options: ForwardOptions(), rng: SeededRandom(seed: 0))
        }
        for index in 0..<min(count, splits[0].sampleCount) {
            let batches = try streams.map { try $0.next()! }
            let (height, width) = batches[0].labelSize ?? (batches[0].images.shape[2], batches[0].images.shape[3])
            let image = try ImageDecoder.decode(contentsOf: splits[0].dataset.samples[index].image)
            var row = [RGBImage(image), LabelPalette.image(labels: batches[0].labels, width: width, height: height)]
            for (segmenter, batch) in zip(segmenters, batches) {
                let predicted = SegmentationMetrics.predictedLabels(segmenter.objective.scores(batch))
                row.append(LabelPalette.image(labels: predicted, width: width, height: height))
            }
            rows.append(row.map { $0.magnified(by: scale) })
        }
        let captions = ["image", "true mask"] + segmenters.map { (segmenter: TrainedSegmenter) in segmenter.config.method }
        try PNG.write(ImageMontage.grid(rows, columnCaptions: captions), to: URL(fileURLWithPath: out))
        print("wrote \(out)")
    }
}
