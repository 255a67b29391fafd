import Tensor

/// Class-balanced selection for building VTAB-style splits: classes take turns (in label
/// order), each giving its next sample from its own seeded shuffle, so any prefix of the
/// sequence is as balanced as the pool allows (800 of 10 classes: 80 each).
enum BalancedSampler {
    /// The pool's indices in round-robin class order; `labels[i]` is the label of pool item i.
    static func roundRobin(labels: [Int], pool: [Int], rng: inout SeededRandom) -> [Int] {
        var byClass: [Int: [Int]] = [:]
        for i in pool { byClass[labels[i], default: []].append(i) }
        let queues = byClass.keys.sorted().map { label -> [Int] in
            var items = byClass[label]!
            for k in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(k, rng.nextInt(k + 1)) }
            return items
        }
        var order: [Int] = []
        order.reserveCapacity(pool.count)
        var depth = 0
        while order.count < pool.count {
            for q in 0..<queues.count where depth < queues[q].count { order.append(queues[q][depth]) }
            depth += 1
        }
        return order
    }
}
