import Models
import NN
import Tensor

/// One vpeft target's share of a PEFT LoRA module: A [rank, in], B [rows of the target, rank],
/// PEFT's scale for the module, and DoRA's magnitude over the target's rows.
struct LowRankPiece {
    let target: LinearTarget
    let a: Tensor
    let b: Tensor
    let scale: Double
    let magnitude: Tensor?

    var rank: Int { a.shape[0] }

    /// The pieces of a PEFT module's factors: one for a whole linear; for `qkv`, one per slice
    /// with its own columns when B is block-shaped, else one per slice sharing all of A.
    static func split(a: Tensor, b: Tensor, magnitude: Tensor?, scale: Double, module: PEFTModule, block: Block) -> [LowRankPiece] {
        let rank = a.shape[0], layer = module.layer(in: block)
        func piece(_ target: LinearTarget, columns: [Int]) -> LowRankPiece {
            let rows = target.rows(in: block)
            let pa = Tensor.zeros([columns.count, a.shape[1]]), pb = Tensor.zeros([rows.count, columns.count])
            for (i, column) in columns.enumerated() {
                (pa.data + i * a.shape[1]).update(from: a.data + column * a.shape[1], count: a.shape[1])
                for (row, layerRow) in rows.enumerated() { pb.data[row * columns.count + i] = b.data[layerRow * rank + column] }
            }
            let m = magnitude.map { Tensor(shape: [rows.count], Array($0.scalars[rows])) }
            return LowRankPiece(target: target, a: pa, b: pb, scale: scale, magnitude: m)
        }
        let all = Array(0..<rank)
        guard module == .qkv else { return [piece(module.targets[0], columns: all)] }
        let used = module.targets.map { target in
            all.filter { column in target.rows(in: block).contains { b.data[$0 * rank + column] != 0 } }
        }
        let nonEmpty = used.filter { !$0.isEmpty }
        let blockShaped = !nonEmpty.isEmpty && Set(nonEmpty.map(\.count)).count == 1 && Set(nonEmpty.joined()).count == nonEmpty.joined().count
        guard blockShaped else { return module.targets.map { piece($0, columns: all) } }
        return zip(module.targets, used).compactMap { target, columns -> LowRankPiece? in
            if !columns.isEmpty { return piece(target, columns: columns) }
            // A slice B leaves alone is no target unless DoRA rescales it.
            guard let magnitude else { return nil }
            let rows = target.rows(in: block)
            guard Array(magnitude.scalars[rows]) != unchangedMagnitude(layer, rows: rows).scalars else { return nil }
            return piece(target, columns: Array(repeating: 0, count: nonEmpty[0].count)).zeroed()
        }
    }

    /// The piece with zero factors (same shapes and magnitude).
    private func zeroed() -> LowRankPiece {
        LowRankPiece(target: target, a: Tensor.zeros(a.shape), b: Tensor.zeros(b.shape), scale: scale, magnitude: magnitude)
    }

    /// Writes the factors into vpeft's A [rank', in] and B [rows, rank'] (rank' ≥ rank; the
    /// rest stays zero), B multiplied by `ratio` (PEFT's scale over vpeft's).
    func write(a target: Tensor, b targetB: Tensor, rank padded: Int, ratio: Float) {
        target.data.update(from: a.data, count: a.count)
        for row in 0..<b.shape[0] {
            for column in 0..<rank { targetB.data[row * padded + column] = b.data[row * rank + column] * ratio }
        }
    }
}
