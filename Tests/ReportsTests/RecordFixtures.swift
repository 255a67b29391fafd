import Foundation
import Reports
import XCTest

/// Writes run-record files (docs/RESULTS_SCHEMA.md) into a temporary results folder, so tests
/// read records exactly as the bench writes them.
struct RecordFixtures {
    let folder: URL

    /// A fresh folder, removed when `testCase` finishes.
    init(for testCase: XCTestCase) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        self.folder = folder
    }

    /// The paper's Table IV columns, in order.
    static let vtab: [(name: String, group: String)] = [
        ("cifar100", "natural"), ("caltech101", "natural"), ("dtd", "natural"), ("oxford_flowers102", "natural"),
        ("oxford_iiit_pet", "natural"), ("svhn", "natural"), ("sun397", "natural"),
        ("patch_camelyon", "specialized"), ("eurosat", "specialized"), ("resisc45", "specialized"), ("diabetic_retinopathy", "specialized"),
        ("clevr_count", "structured"), ("clevr_dist", "structured"), ("dmlab", "structured"), ("kitti", "structured"),
        ("dsprites_loc", "structured"), ("dsprites_ori", "structured"), ("smallnorb_azi", "structured"), ("smallnorb_ele", "structured"),
    ]

    /// Table IV, full fine-tuning and linear probing rows.
    static let fullFineTuning: [Double] = [68.9, 87.7, 64.3, 97.2, 86.9, 87.4, 38.8, 79.7, 95.7, 84.2, 73.9,
                                           56.3, 58.6, 41.7, 65.5, 57.5, 46.7, 25.7, 29.1]
    static let linearProbing: [Double] = [63.4, 85.0, 63.2, 97.0, 86.3, 36.6, 51.0, 78.5, 87.5, 68.6, 74.0,
                                          34.3, 30.6, 33.2, 55.4, 12.5, 20.0, 9.6, 19.2]

    static func record(method: String, dataset: String, group: String? = nil, accuracy: Double, seed: Int = 42,
                       parameters: Int = 0, protocolName: String = "vpetl", options: [String: Any] = [:],
                       perEpoch: [(Int, Double)] = [], cost: [String: Any]? = nil) -> [String: Any] {
        var record: [String: Any] = [
            "schema": "vpeft-run/1",
            "run_id": "\(method)-\(dataset)-\(seed)",
            "method": method, "method_options": options, "init": "intended",
            "backbone": ["architecture": "vit_base_patch16_224", "fingerprint": "f", "img_size": 224],
            "dataset": ["suite": "vtab1k", "name": dataset, "group": group ?? vtab.first { $0.name == dataset }?.group ?? "other",
                        "classes": 10, "manifest_sha256": "m", "train_split": "train800val200", "eval_split": "test",
                        "train_images": 1000, "eval_images": 500],
            "protocol": protocolName, "seed": seed, "config": [:] as [String: Any],
            "accuracy": ["top1_final": accuracy, "top1_best": accuracy, "best_epoch": 1, "top5_final": 99.0, "reported": accuracy,
                         "reported_kind": protocolName == "vpetl" ? "best (test-set selection)" : "final epoch",
                         "per_epoch": perEpoch.map { ["epoch": $0.0, "top1": $0.1] }] as [String: Any],
            "params": ["trainable": parameters, "trainable_with_head": parameters + 7690, "ppt": NSNull()],
            "environment": ["vpeft": "0.1.0", "swift": "6.3", "cpu": "Test CPU", "threads": 2, "blas": "OpenBLAS", "git_commit": "c"],
        ]
        if let cost { record["cost"] = cost }
        return record
    }

    @discardableResult
    func write(_ record: [String: Any], as name: String? = nil, in subfolder: String = "") throws -> URL {
        let directory = folder.appendingPathComponent(subfolder)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name ?? "\(record["run_id"]!).json")
        try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]).write(to: file)
        return file
    }

    func writeRaw(_ text: String, as name: String) throws {
        try Data(text.utf8).write(to: folder.appendingPathComponent(name))
    }

    /// A method's 19 Table IV numbers, one record per dataset.
    func writeTableIVRow(method: String, accuracies: [Double], parameters: Int, seed: Int = 42) throws {
        for (dataset, accuracy) in zip(Self.vtab, accuracies) {
            try write(Self.record(method: method, dataset: dataset.name, accuracy: accuracy, seed: seed, parameters: parameters),
                      in: method)
        }
    }
}
