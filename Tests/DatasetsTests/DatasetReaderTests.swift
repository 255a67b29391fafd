import Datasets
import Foundation
import XCTest

/// The on-disk layouts read end to end: VTAB-1k, FGVC JSON, image folders, list files, IDX.
final class DatasetReaderTests: XCTestCase {
    func testVTABTaskReadsEveryLayoutFile() throws {
        let root = try temporaryDirectory(self)
        try TinyDatasets.vtabTask(in: root, name: "eurosat", classes: 10, perSplit: [.train800: 20, .val200: 10, .test: 7])
        let task = try VTAB1kDataset(root: root, name: "eurosat")
        XCTAssertEqual(task.task?.group, "specialized")
        XCTAssertEqual(task.classCount, 10)
        let train = try task.split(.train800val200)
        XCTAssertEqual(train.count, 30)
        XCTAssertEqual(try task.split(.test).count, 7)
        XCTAssertEqual(train.samples[3].label, 3)
        XCTAssertEqual(try train.loadImage(at: 3), TinyDatasets.image(label: 3, index: 3))
        XCTAssertEqual(try train.loadImage(at: 25), TinyDatasets.image(label: 5, index: 5))   // val200 line 6
    }

    func testCIFARIsFoundUnderEitherFolderName() throws {
        for folderName in ["cifar", "cifar100"] {
            let root = try temporaryDirectory(self)
            try TinyDatasets.vtabTask(in: root, name: folderName, classes: 100, perSplit: [.train800: 100, .val200: 2, .test: 2])
            let task = try VTAB1kDataset(root: root, name: "cifar100")
            XCTAssertEqual(task.name, "cifar100")
            XCTAssertEqual(task.folder.lastPathComponent, folderName)
            XCTAssertEqual(try task.split(.train800).count, 100)
        }
    }

    func testCatalogHoldsTheProtocol() throws {
        let catalog = VTAB1kCatalog.standard
        XCTAssertEqual(catalog.datasets.count, 19)
        XCTAssertEqual(catalog.groups.map { catalog.tasks(in: $0).count }, [7, 4, 8])
        let dr = try XCTUnwrap(catalog.task(named: "diabetic_retinopathy"))
        XCTAssertEqual(dr.testSize, 42_670)
        XCTAssertTrue(dr.trainAugmentation)
        XCTAssertEqual(catalog.task(named: "cifar")?.name, "cifar100")
        XCTAssertEqual(Set(catalog.datasets.filter(\.trainAugmentation).map(\.name)),
                       ["clevr_count", "diabetic_retinopathy", "dmlab", "dtd", "eurosat", "kitti", "oxford_flowers102",
                        "oxford_iiit_pet", "patch_camelyon", "resisc45", "sun397", "svhn"])
        XCTAssertEqual(Set(catalog.datasets.filter { $0.labelSmoothing == 0.1 }.map(\.name)),
                       ["caltech101", "cifar100", "diabetic_retinopathy", "dtd", "eurosat", "kitti", "oxford_flowers102",
                        "oxford_iiit_pet", "patch_camelyon", "resisc45", "sun397", "svhn"])
        let cifar = try XCTUnwrap(catalog.task(named: "cifar100"))
        let lora = catalog.hyperparameters(task: cifar, method: "lora"), adapter = catalog.hyperparameters(task: cifar, method: "adapter")
        XCTAssertEqual([lora.learningRate, lora.weightDecay], [5e-3, 5e-3])
        XCTAssertEqual([adapter.learningRate, adapter.weightDecay], [1e-2, 1.0])
        XCTAssertEqual(FGVCCatalog.standard.datasets.map(\.classes), [200, 555, 102, 120, 196])
    }

    /// The binary embeds the catalogs; they must equal the files under configs/datasets.
    func testEmbeddedCatalogsEqualTheConfigFiles() throws {
        let configs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("configs/datasets")
        for (file, embedded) in [("vtab1k.json", VTAB1kCatalog.embeddedJSON), ("fgvc.json", FGVCCatalog.embeddedJSON)] {
            let onDisk = try String(contentsOf: configs.appendingPathComponent(file), encoding: .utf8)
            XCTAssertEqual(embedded.trimmingCharacters(in: .newlines), onDisk.trimmingCharacters(in: .newlines),
                           "Sources/Datasets/EmbeddedCatalogs.swift is out of date with configs/datasets/\(file)")
        }
    }

    func testCustomTaskTakesClassesFromItsLabels() throws {
        let root = try temporaryDirectory(self)
        let folder = try TinyDatasets.vtabTask(in: root, name: "my_task", classes: 3)
        let task = try VTAB1kDataset(folder: folder)
        XCTAssertNil(task.task)
        XCTAssertEqual(task.classCount, 3)
        XCTAssertEqual(try task.split(.train800).classHistogram, [3, 3, 2])
    }

    /// Class ids come from the union of all splits, sorted: a class only in test still gets
    /// its place, and labels agree across splits.
    func testFGVCMapsClassIDsFromTheUnionOfSplits() throws {
        let root = try temporaryDirectory(self)
        let folder = root.appendingPathComponent("birds")
        var train: [String: Int] = [:], test: [String: Int] = [:]
        for (i, id) in [17, 3, 42, 3, 17, 42].enumerated() {
            let path = "images/\(id)/\(i).png"
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("images/\(id)"), withIntermediateDirectories: true)
            try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: id, index: i)), to: folder.appendingPathComponent(path))
            if i < 4 { train[path] = id } else { test[path] = id }
        }
        test["images/99/x.png"] = 99
        train["images/99/y.png"] = 99
        for path in ["images/99/x.png", "images/99/y.png"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("images/99"), withIntermediateDirectories: true)
            try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 99, index: 0)), to: folder.appendingPathComponent(path))
        }
        try TinyDatasets.writeFile(JSONSerialization.data(withJSONObject: train), to: folder.appendingPathComponent("train.json"))
        try TinyDatasets.writeFile(JSONSerialization.data(withJSONObject: test), to: folder.appendingPathComponent("test.json"))
        let dataset = try FGVCDataset(folder: folder, imageFolder: "")
        XCTAssertEqual(dataset.classIDs, [3, 17, 42, 99])
        XCTAssertEqual(dataset.availableSplits, ["train", "test"])
        let trainFiles = try dataset.split("train")
        XCTAssertEqual(trainFiles.samples.map(\.path), train.keys.sorted())
        XCTAssertEqual(trainFiles.samples.map(\.label), trainFiles.samples.map { [3: 0, 17: 1, 42: 2, 99: 3][Int($0.path.split(separator: "/")[1])!]! })
        XCTAssertEqual(try trainFiles.loadImage(at: 0), TinyDatasets.image(label: 17, index: 0))
        XCTAssertEqual(try dataset.split("test").count, 3)
    }

    func testImageFolderSortsClassesAndFiles() throws {
        let root = try temporaryDirectory(self)
        try TinyDatasets.imageFolder(in: root, classes: ["zebra", "Apple", "mango"], perClass: 3)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("mango/nested"), withIntermediateDirectories: true)
        try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: 2, index: 9)), to: root.appendingPathComponent("mango/nested/a.png"))
        try TinyDatasets.writeFile(Data("not an image".utf8), to: root.appendingPathComponent("mango/readme.txt"))
        let files = try ImageFolderDataset.load(root)
        XCTAssertEqual(files.classNames, ["Apple", "mango", "zebra"])   // code-point order, as Python's sorted
        XCTAssertEqual(files.samples.map(\.path), ["Apple/0.png", "Apple/1.png", "Apple/2.png", "mango/0.png", "mango/1.png", "mango/2.png",
                                                   "mango/nested/a.png", "zebra/0.png", "zebra/1.png", "zebra/2.png"])
        XCTAssertEqual(files.samples.map(\.label), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    }

    func testListFilesAcceptWhitespaceAndCSV() throws {
        let dir = try temporaryDirectory(self)
        try TinyDatasets.write("a/x y.png 3\n\n  b/z.png\t1  \r\n", to: dir.appendingPathComponent("space.txt"))
        try TinyDatasets.write("clips/a.mp4,2\nclips/b c.mp4,0\n", to: dir.appendingPathComponent("list.csv"))
        let spaced = try SplitListParser.parse(dir.appendingPathComponent("space.txt"), classCount: 4)
        XCTAssertEqual(spaced.map(\.path), ["a/x y.png", "b/z.png"])
        XCTAssertEqual(spaced.map(\.label), [3, 1])
        XCTAssertEqual(spaced.map(\.line), [1, 3])
        let csv = try SplitListParser.parse(dir.appendingPathComponent("list.csv"), classCount: nil)
        XCTAssertEqual(csv.map(\.path), ["clips/a.mp4", "clips/b c.mp4"])
        XCTAssertEqual(csv.map(\.label), [2, 0])
    }

    func testIDXReadsGzipAndRaw() throws {
        let images = try XCTUnwrap(try DataFixtures.references().tensors["idx.images"])
        let raw = try IDXFile(contentsOf: DataFixtures.url("idx/images-idx3-ubyte"))
        let gz = try IDXFile(contentsOf: DataFixtures.url("idx/images-idx3-ubyte.gz"))
        XCTAssertEqual(raw.dimensions, [12, 5, 7])
        XCTAssertEqual(gz.dimensions, raw.dimensions)
        XCTAssertEqual(gz.bytes, raw.bytes)
        XCTAssertEqual(raw.bytes.map(Float.init), images.scalars)
        let dataset = try IDXDataset(images: DataFixtures.url("idx/images-idx3-ubyte.gz"), labels: DataFixtures.url("idx/labels-idx1-ubyte.gz"))
        XCTAssertEqual(dataset.count, 12)
        XCTAssertEqual(dataset.classCount, 3)
        XCTAssertEqual((0..<12).map(dataset.label), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
        let first = try dataset.loadImage(at: 1)
        XCTAssertEqual([first.width, first.height], [7, 5])
        XCTAssertEqual(first.pixels[0..<6], [raw.bytes[35], raw.bytes[35], raw.bytes[35], raw.bytes[36], raw.bytes[36], raw.bytes[36]])
    }
}

extension DatasetReaderTests {
    /// A known FGVC dataset is checked against VPT's split sizes (CUB: 5,394 / 600 / 5,794).
    func testVerifyChecksFGVCSplitSizes() throws {
        let root = try temporaryDirectory(self)
        let folder = root.appendingPathComponent("CUB_200_2011")
        var train: [String: Int] = [:]
        for i in 0..<200 {   // one image of each of CUB's 200 classes
            let path = "images/\(i).png"
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("images"), withIntermediateDirectories: true)
            try TinyDatasets.writeFile(PNGEncoder.encode(TinyDatasets.image(label: i, index: i)), to: folder.appendingPathComponent(path))
            train[path] = i
        }
        for split in ["train", "val", "test"] {
            try TinyDatasets.writeFile(JSONSerialization.data(withJSONObject: train), to: folder.appendingPathComponent("\(split).json"))
        }
        let report = try DatasetVerifier.verify(folder, expect: .fgvc)
        XCTAssertTrue(report.problems.contains { $0.contains("200 samples, the benchmark's split has 5394") }, "\(report.problems)")
        XCTAssertTrue(report.problems.contains { $0.contains("200 samples, the benchmark's split has 5794") }, "\(report.problems)")
    }
}
