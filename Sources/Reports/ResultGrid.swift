/// Run records arranged as a table sees them: rows are method configurations (a method with
/// its options), columns are datasets, each cell holds the records of its seeds. Tables and
/// plots are views over one grid, so they agree on rows, order and warnings.
public struct ResultGrid: Sendable {
    public struct Row: Hashable, Sendable {
        public let method: String
        public let options: [String: String]
        /// Display name, plus the options that tell it apart when a method appears with several
        /// configurations: "LoRA (rank=4)".
        public let label: String
    }

    public let rows: [Row]
    public let datasets: [DatasetCatalog.Entry]
    /// Things a reader of the table must know: mixed protocols or backbones, repeated seeds.
    public let warnings: [String]
    private let cells: [CellKey: [RunRecord]]

    private struct CellKey: Hashable {
        let method: String
        let options: [String: String]
        let dataset: String
    }

    /// `methodOrder` (method ids) puts those methods first, in that order; the rest follow in
    /// the paper's order (`MethodCatalog`).
    public init(records: [RunRecord], methodOrder: [String] = []) {
        var cells: [CellKey: [RunRecord]] = [:]
        var datasetGroups: [String: String?] = [:]
        for record in records {
            cells[CellKey(method: record.method, options: record.methodOptions, dataset: record.dataset), default: []].append(record)
            if datasetGroups[record.dataset] == nil { datasetGroups[record.dataset] = record.datasetGroup }
        }
        self.cells = cells
        datasets = DatasetCatalog.sorted(datasetGroups.map { DatasetCatalog.entry(for: $0.key, recordedGroup: $0.value) })

        var optionSets: [String: Set<[String: String]>] = [:]
        for key in cells.keys { optionSets[key.method, default: []].insert(key.options) }
        var rows: [Row] = []
        for (method, variants) in optionSets {
            for options in variants {
                rows.append(Row(method: method, options: options, label: Self.label(method: method, options: options, variants: variants)))
            }
        }
        func rank(_ method: String) -> Int {
            methodOrder.firstIndex(of: method) ?? methodOrder.count + MethodCatalog.rank(method)
        }
        self.rows = rows.sorted { (rank($0.method), $0.label) < (rank($1.method), $1.label) }
        warnings = Self.warnings(records, cells: cells)
    }

    /// The records of one row on one dataset (one per seed, normally).
    public func records(_ row: Row, dataset: String) -> [RunRecord] {
        cells[CellKey(method: row.method, options: row.options, dataset: dataset)] ?? []
    }

    /// All records of a row, datasets in column order.
    public func records(_ row: Row) -> [RunRecord] {
        datasets.flatMap { records(row, dataset: $0.name) }
    }

    private static func label(method: String, options: [String: String], variants: Set<[String: String]>) -> String {
        let name = MethodCatalog.displayName(method)
        guard variants.count > 1 else { return name }
        let keys = Set(variants.flatMap(\.keys)).filter { key in Set(variants.map { $0[key] }).count > 1 }.sorted()
        let parts = keys.map { key in "\(key)=\((options[key] ?? "default").replacingOccurrences(of: "\"", with: ""))" }
        return "\(name) (\(parts.joined(separator: ", ")))"
    }

    private static func warnings(_ records: [RunRecord], cells: [CellKey: [RunRecord]]) -> [String] {
        var warnings: [String] = []
        let protocols = Dictionary(grouping: records, by: \.evaluationProtocol)
        if protocols.count > 1 {
            let counts = protocols.keys.sorted().map { "\($0) (\(protocols[$0]!.count) records)" }
            warnings.append("records mix evaluation protocols: \(counts.joined(separator: ", ")); numbers of different protocols are not comparable")
        }
        let backbones = Set(records.map { $0.backbone ?? "unknown" })
        if backbones.count > 1 {
            warnings.append("records mix backbones: \(backbones.sorted().joined(separator: ", "))")
        }
        for key in cells.keys.sorted(by: { ($0.method, $0.dataset) < ($1.method, $1.dataset) }) {
            let bySeed = Dictionary(grouping: cells[key]!, by: \.seed)
            for seed in bySeed.keys.sorted() where bySeed[seed]!.count > 1 {
                let files = bySeed[seed]!.map(\.file.lastPathComponent).sorted().joined(separator: ", ")
                warnings.append("\(key.method) on \(key.dataset), seed \(seed), has \(bySeed[seed]!.count) records (\(files)); all are averaged")
            }
        }
        return warnings
    }
}
