import ArgumentParser
import Foundation

@main
struct VPEFT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vpeft",
        abstract: "Parameter-efficient fine-tuning of pre-trained vision models, and a benchmark of PEFT methods.",
        subcommands: [Doctor.self, Inspect.self, Convert.self, Forward.self, Methods.self, Merge.self, Export.self, Import.self, Train.self, Evaluate.self, Predict.self, Bench.self, Report.self, Visualize.self, DataCommand.self, BenchEngine.self, BenchSpeed.self]
    )

    static func main() {
        // Line by line even into a file: a Slurm task's log (or a CI log) shows each epoch as it
        // ends, and a task killed after its grace period loses no finished line.
        setvbuf(stdout, nil, _IOLBF, 0)
        main(nil)
    }
}
