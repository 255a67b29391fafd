/// Display names of method ids and the row order of tables (the paper's Table IV order:
/// baselines first, then roughly by publication). Unknown ids keep their id and sort after.
public enum MethodCatalog {
    public static let ordered: [(id: String, displayName: String)] = [
        ("full", "Full fine-tuning"), ("linear", "Linear probing"), ("partial", "Partial fine-tuning"),
        ("adapter", "Adapter"), ("vpt_shallow", "VPT-Shallow"), ("vpt_deep", "VPT-Deep"), ("bitfit", "BitFit"),
        ("ln_tune", "LN-tune"), ("prefix", "Prefix-tuning"), ("lora", "LoRA"), ("dora", "DoRA"),
        ("adaptformer", "AdaptFormer"), ("convpass", "Convpass"), ("ssf", "SSF"), ("noah", "NOAH"), ("sct", "SCT"),
        ("fact_tt", "FacT-TT"), ("fact_tk", "FacT-TK"), ("rep_adapter", "RepAdapter"), ("hydra", "Hydra"),
        ("lst", "LST"), ("dtl", "DTL"), ("hst", "HST"), ("gps", "GPS"), ("last", "LAST"), ("snf", "SNF"),
        // The methods the paper adds for video (Table V) and dense prediction (Table VI), and the other registered ones.
        ("patt", "PATT"), ("bapat", "BAPAT"), ("lorand", "LoRand"), ("e3va", "E3VA"), ("mona", "Mona"),
        ("vera", "VeRA"), ("difffit", "DiffFit"), ("kadaptation", "KAdaptation"), ("u_tuning", "U-Tuning"), ("visual_prompt", "Visual prompting"),
    ]

    public static func displayName(_ id: String) -> String {
        ordered.first { $0.id == id }?.displayName ?? id
    }

    /// Position for sorting rows: catalog order, unknown ids after all known ones.
    public static func rank(_ id: String) -> Int {
        ordered.firstIndex { $0.id == id } ?? ordered.count
    }
}
