/// The dataset catalogs, embedded verbatim so the binary works from any directory and after
/// installation. The source of truth is configs/datasets/*.json; a test fails when these copies
/// drift from the files (paste the file between the delimiters to update).
enum EmbeddedCatalogs {
    static let vtab1k = #"""
{
  "benchmark": "vtab-1k",
  "about": "The 19 VTAB-1k tasks in the processed layout used by NOAH, SSF, FacT and V-PETL: <root>/<folder>/{train800,val200,train800val200,test}.txt. Classes, groups, augmentation, label smoothing and learning rate / weight decay from the paper's released benchmark code and its Table IV (docs/protocols.md); test-split sizes from VPT (Jia et al., ECCV 2022, appendix table of VTAB-1k statistics). trainingMayMissClasses: sun397 has 397 classes for 1,000 training images drawn without class balancing, so about 30 classes are expected to be absent from its training split.",
  "splitSizes": {"train800": 800, "val200": 200, "train800val200": 1000},
  "groups": ["natural", "specialized", "structured"],
  "datasets": [
    {"name": "cifar100", "folders": ["cifar", "cifar100"], "classes": 100, "group": "natural", "testSize": 10000, "trainAugmentation": false, "labelSmoothing": 0.1, "learningRate": 1e-2, "weightDecay": 1.0, "trainingMayMissClasses": false},
    {"name": "caltech101", "folders": ["caltech101"], "classes": 102, "group": "natural", "testSize": 6084, "trainAugmentation": false, "labelSmoothing": 0.1, "learningRate": 6e-3, "weightDecay": 0.35, "trainingMayMissClasses": false},
    {"name": "dtd", "folders": ["dtd"], "classes": 47, "group": "natural", "testSize": 1880, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 3.2e-3, "weightDecay": 0.04, "trainingMayMissClasses": false},
    {"name": "oxford_flowers102", "folders": ["oxford_flowers102"], "classes": 102, "group": "natural", "testSize": 6149, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 5e-2, "weightDecay": 0.11, "trainingMayMissClasses": false},
    {"name": "oxford_iiit_pet", "folders": ["oxford_iiit_pet"], "classes": 37, "group": "natural", "testSize": 3669, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 7e-4, "weightDecay": 0.8, "trainingMayMissClasses": false},
    {"name": "svhn", "folders": ["svhn"], "classes": 10, "group": "natural", "testSize": 26032, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 1e-3, "weightDecay": 5e-3, "trainingMayMissClasses": false},
    {"name": "sun397", "folders": ["sun397"], "classes": 397, "group": "natural", "testSize": 21750, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 1.7e-3, "weightDecay": 1e-2, "trainingMayMissClasses": true},
    {"name": "patch_camelyon", "folders": ["patch_camelyon"], "classes": 2, "group": "specialized", "testSize": 32768, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 7.2e-3, "weightDecay": 2e-3, "trainingMayMissClasses": false},
    {"name": "eurosat", "folders": ["eurosat"], "classes": 10, "group": "specialized", "testSize": 5400, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 6e-2, "weightDecay": 1e-3, "trainingMayMissClasses": false},
    {"name": "resisc45", "folders": ["resisc45"], "classes": 45, "group": "specialized", "testSize": 6300, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 1e-2, "weightDecay": 1e-2, "trainingMayMissClasses": false},
    {"name": "diabetic_retinopathy", "folders": ["diabetic_retinopathy"], "classes": 5, "group": "specialized", "testSize": 42670, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 4e-3, "weightDecay": 3e-4, "trainingMayMissClasses": false},
    {"name": "clevr_count", "folders": ["clevr_count"], "classes": 8, "group": "structured", "testSize": 15000, "trainAugmentation": true, "labelSmoothing": 0.0, "learningRate": 3.3e-3, "weightDecay": 1e-2, "trainingMayMissClasses": false},
    {"name": "clevr_dist", "folders": ["clevr_dist"], "classes": 6, "group": "structured", "testSize": 15000, "trainAugmentation": false, "labelSmoothing": 0.0, "learningRate": 1.8e-3, "weightDecay": 5e-3, "trainingMayMissClasses": false},
    {"name": "dmlab", "folders": ["dmlab"], "classes": 6, "group": "structured", "testSize": 22735, "trainAugmentation": true, "labelSmoothing": 0.0, "learningRate": 9e-3, "weightDecay": 0.1, "trainingMayMissClasses": false},
    {"name": "kitti", "folders": ["kitti"], "classes": 4, "group": "structured", "testSize": 711, "trainAugmentation": true, "labelSmoothing": 0.1, "learningRate": 7.2e-3, "weightDecay": 1e-4, "trainingMayMissClasses": false},
    {"name": "dsprites_loc", "folders": ["dsprites_loc"], "classes": 16, "group": "structured", "testSize": 73728, "trainAugmentation": false, "labelSmoothing": 0.0, "learningRate": 3e-3, "weightDecay": 1e-3, "trainingMayMissClasses": false},
    {"name": "dsprites_ori", "folders": ["dsprites_ori"], "classes": 16, "group": "structured", "testSize": 73728, "trainAugmentation": false, "labelSmoothing": 0.0, "learningRate": 1e-2, "weightDecay": 5e-2, "trainingMayMissClasses": false},
    {"name": "smallnorb_azi", "folders": ["smallnorb_azi"], "classes": 18, "group": "structured", "testSize": 12150, "trainAugmentation": false, "labelSmoothing": 0.0, "learningRate": 6.2e-3, "weightDecay": 5e-3, "trainingMayMissClasses": false},
    {"name": "smallnorb_ele", "folders": ["smallnorb_ele"], "classes": 9, "group": "structured", "testSize": 12150, "trainAugmentation": false, "labelSmoothing": 0.0, "learningRate": 1.1e-3, "weightDecay": 5e-4, "trainingMayMissClasses": false}
  ],
  "methodOverrides": {
    "bitfit": {"cifar100": {"learningRate": 3e-3, "weightDecay": 1e-4}, "caltech101": {"learningRate": 6e-3, "weightDecay": 0.25}},
    "ln_tune": {"cifar100": {"learningRate": 8e-3, "weightDecay": 1e-2}, "caltech101": {"learningRate": 5e-3, "weightDecay": 1e-2}},
    "lora": {"cifar100": {"learningRate": 5e-3, "weightDecay": 5e-3}},
    "linear": {"cifar100": {"learningRate": 1e-3, "weightDecay": 1e-4}},
    "vpt_shallow": {"cifar100": {"learningRate": 1e-3, "weightDecay": 1e-4}}
  }
}
"""#

    static let fgvc = #"""
{
  "benchmark": "fgvc",
  "about": "The five FGVC datasets with VPT's JSON splits: <root>/<name>/{train,val,test}.json = {relative image path: class id}, images under <root>/<name>/<imageFolder>. Classes and learning rate / weight decay from the paper's released benchmark code (docs/protocols.md); no augmentation flag because FGVC training always uses resize-256 / random-crop-224 / flip; no label smoothing. splitSizes are the VPT paper's dataset table (train / val / test), checked by `vpeft data verify`.",
  "datasets": [
    {"name": "CUB_200_2011", "classes": 200, "imageFolder": "images", "labelSmoothing": 0.0, "learningRate": 1e-3, "weightDecay": 5e-2, "splitSizes": {"train": 5394, "val": 600, "test": 5794}},
    {"name": "nabirds", "classes": 555, "imageFolder": "images", "labelSmoothing": 0.0, "learningRate": 2e-4, "weightDecay": 5e-2, "splitSizes": {"train": 21536, "val": 2393, "test": 24633}},
    {"name": "OxfordFlower", "classes": 102, "imageFolder": "", "labelSmoothing": 0.0, "learningRate": 1e-3, "weightDecay": 5e-2, "splitSizes": {"train": 1020, "val": 1020, "test": 6149}},
    {"name": "StanfordDogs", "classes": 120, "imageFolder": "Images", "labelSmoothing": 0.0, "learningRate": 2.5e-4, "weightDecay": 5e-2, "splitSizes": {"train": 10800, "val": 1200, "test": 8580}},
    {"name": "StanfordCars", "classes": 196, "imageFolder": "", "labelSmoothing": 0.0, "learningRate": 2e-3, "weightDecay": 5e-2, "splitSizes": {"train": 7329, "val": 815, "test": 8041}}
  ]
}
"""#
}
