/// The order, grouping and column names of datasets in tables and plots, following the
/// paper's Table IV for VTAB-1k (natural, specialized, structured) and the FGVC suite after it.
/// Datasets the catalog does not know come last, grouped by their record's group, by name.
public enum DatasetCatalog {
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let group: String
        /// The paper's column heading ("C100", "dLoc", …).
        public let shortName: String
    }

    public static let groupOrder = ["natural", "specialized", "structured", "fgvc", "video", "segmentation"]

    public static let entries: [Entry] = [
        Entry(name: "cifar100", group: "natural", shortName: "C100"),
        Entry(name: "caltech101", group: "natural", shortName: "Cal"),
        Entry(name: "dtd", group: "natural", shortName: "DTD"),
        Entry(name: "oxford_flowers102", group: "natural", shortName: "Flw"),
        Entry(name: "oxford_iiit_pet", group: "natural", shortName: "Pets"),
        Entry(name: "svhn", group: "natural", shortName: "SVHN"),
        Entry(name: "sun397", group: "natural", shortName: "Sun"),
        Entry(name: "patch_camelyon", group: "specialized", shortName: "Cam"),
        Entry(name: "eurosat", group: "specialized", shortName: "Euro"),
        Entry(name: "resisc45", group: "specialized", shortName: "Res"),
        Entry(name: "diabetic_retinopathy", group: "specialized", shortName: "Ret"),
        Entry(name: "clevr_count", group: "structured", shortName: "Cnt"),
        Entry(name: "clevr_dist", group: "structured", shortName: "Dist"),
        Entry(name: "dmlab", group: "structured", shortName: "DMLab"),
        Entry(name: "kitti", group: "structured", shortName: "KITTI"),
        Entry(name: "dsprites_loc", group: "structured", shortName: "dLoc"),
        Entry(name: "dsprites_ori", group: "structured", shortName: "dOri"),
        Entry(name: "smallnorb_azi", group: "structured", shortName: "Azi"),
        Entry(name: "smallnorb_ele", group: "structured", shortName: "Ele"),
        Entry(name: "cub", group: "fgvc", shortName: "CUB"),
        Entry(name: "nabirds", group: "fgvc", shortName: "NABirds"),
        Entry(name: "oxford_flowers", group: "fgvc", shortName: "Flowers"),
        Entry(name: "stanford_dogs", group: "fgvc", shortName: "Dogs"),
        Entry(name: "stanford_cars", group: "fgvc", shortName: "Cars"),
        // Table V (video action recognition) and Table VI (semantic segmentation).
        Entry(name: "ssv2", group: "video", shortName: "SSv2"),
        Entry(name: "hmdb51", group: "video", shortName: "HMDB51"),
        Entry(name: "ade20k", group: "segmentation", shortName: "ADE20K"),
        Entry(name: "voc", group: "segmentation", shortName: "VOC"),
    ]

    /// The catalog entry, or one made from the record's own group (or "other").
    public static func entry(for name: String, recordedGroup: String?) -> Entry {
        entries.first { $0.name == name } ?? Entry(name: name, group: recordedGroup ?? "other", shortName: name)
    }

    /// Sorts entries as tables show them: known groups in the paper's order, then other groups
    /// by name; within a group, catalog order, then by name.
    public static func sorted(_ datasets: [Entry]) -> [Entry] {
        func groupRank(_ group: String) -> Int { groupOrder.firstIndex(of: group) ?? groupOrder.count }
        func datasetRank(_ name: String) -> Int { entries.firstIndex { $0.name == name } ?? entries.count }
        return datasets.sorted {
            (groupRank($0.group), $0.group, datasetRank($0.name), $0.name) < (groupRank($1.group), $1.group, datasetRank($1.name), $1.name)
        }
    }

    /// "Natural", "Specialized", "Structured", "FGVC", or the group name capitalised.
    public static func groupTitle(_ group: String) -> String {
        group == "fgvc" ? "FGVC" : group.prefix(1).uppercased() + group.dropFirst()
    }

    /// "VTAB-1k" for "vtab1k", "FGVC" for "fgvc", the video and segmentation suites by their names, else the suite id.
    public static func suiteTitle(_ suite: String) -> String {
        ["vtab1k": "VTAB-1k", "fgvc": "FGVC", "ssv2": "Something-Something V2", "hmdb51": "HMDB51", "ade20k": "ADE20K", "voc": "Pascal VOC 2012"][suite] ?? suite
    }
}
