// The library in one import: `import VPEFTBench` gives a package that depends on V-PEFT Bench the
// engine, models, checkpoint readers, PEFT methods, datasets, training, plots and reports.
@_exported import Checkpoints
@_exported import Datasets
@_exported import Heads
@_exported import Models
@_exported import NN
@_exported import PEFT
@_exported import Reports
@_exported import Tensor
@_exported import Training
@_exported import Viz
