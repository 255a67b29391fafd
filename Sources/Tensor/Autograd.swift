/// Reverse-mode automatic differentiation, recorded while the forward runs (define-by-run).
///
/// Each differentiable op that has at least one input requiring a gradient attaches a
/// `GradNode` to its output. The node holds *edges* to where gradients go (the inputs' own
/// nodes, or leaf tensors) and a backward closure that captures only what the requested
/// gradients need: an op whose weight is frozen keeps no copy of its input alive.

/// Where one input's gradient flows: into another op's node, or into a leaf's `.grad`.
public enum GradEdge {
    case node(GradNode)
    case leaf(Tensor)
    case none
}

public final class GradNode {
    public let op: String
    let edges: [GradEdge]
    /// Given the gradient of this node's output, returns one gradient per edge (nil where the
    /// edge needs none). Released after it runs, freeing every saved tensor.
    var backward: ((Tensor) -> [Tensor?])?
    var pendingGrad: Tensor?
    let outputShape: [Int]

    init(op: String, edges: [GradEdge], outputShape: [Int], backward: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.edges = edges
        self.outputShape = outputShape
        self.backward = backward
    }
}

/// Whether ops record a graph. Evaluation runs inside `withoutGradients { … }`.
public enum GradMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    static func set(_ value: Bool) -> Bool {
        let old = isEnabled
        isEnabled = value
        return old
    }
}

/// Runs `body` without recording any graph (no saved tensors, no gradients).
@discardableResult
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    let old = GradMode.set(false)
    defer { _ = GradMode.set(old) }
    return try body()
}

extension Tensor {
    /// True when an op on these inputs must record a node.
    @inlinable static func needsGraph(_ inputs: [Tensor?]) -> Bool {
        guard GradMode.isEnabled else { return false }
        for t in inputs where t?.requiresGrad == true { return true }
        return false
    }

    /// Attaches a backward node to `self` (an op's fresh output) with an edge per input.
    /// Call only when `needsGraph(inputs)`; the closure gets the output's gradient and returns
    /// one gradient per input in the same order (nil for inputs that do not require one).
    func record(_ op: String, _ inputs: [Tensor?], backward: @escaping (Tensor) -> [Tensor?]) {
        let edges: [GradEdge] = inputs.map { t in
            guard let t, t.requiresGrad else { return .none }
            if let node = t.gradNode { return .node(node) }
            return .leaf(t)
        }
        gradNode = GradNode(op: op, edges: edges, outputShape: shape, backward: backward)
    }

    /// Backpropagates from this tensor. Without `gradient`, the tensor must hold one value and
    /// the seed gradient is 1. Leaf gradients accumulate (call the optimiser's `zeroGrad`).
    /// The graph is consumed: saved tensors are released as each node runs.
    public func backward(_ gradient: Tensor? = nil) {
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "backward: gradient shape \(gradient.shape) != tensor shape \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward: implicit gradient needs a single-value tensor, got shape \(shape)")
            seed = Tensor(shape: shape, repeating: 1)
        }
        guard let root = gradNode else {
            if requiresGrad { accumulateLeafGrad(self, seed) }
            return
        }
        withoutGradients {
            root.pendingGrad = seed
            for node in Self.topologicalOrder(from: root) {
                guard let g = node.pendingGrad, let fn = node.backward else { continue }
                node.pendingGrad = nil
                node.backward = nil
                let grads = fn(g)
                precondition(grads.count == node.edges.count, "\(node.op) backward: \(grads.count) gradients for \(node.edges.count) inputs")
                for (edge, grad) in zip(node.edges, grads) {
                    guard let grad else { continue }
                    switch edge {
                    case .node(let next):
                        precondition(grad.shape == next.outputShape, "\(node.op) backward: gradient shape \(grad.shape) != input shape \(next.outputShape)")
                        next.pendingGrad = next.pendingGrad.map { add($0, grad) } ?? grad
                    case .leaf(let leaf):
                        accumulateLeafGrad(leaf, grad)
                    case .none:
                        break
                    }
                }
            }
        }
        gradNode = nil
    }

    private func accumulateLeafGrad(_ leaf: Tensor, _ grad: Tensor) {
        precondition(grad.shape == leaf.shape, "backward: gradient shape \(grad.shape) != leaf shape \(leaf.shape)")
        if let existing = leaf.grad {
            addInPlace(existing, grad)
        } else {
            // Own storage: the op's gradient may alias another tensor (e.g. add passes through).
            leaf.grad = grad.copy()
        }
    }

    /// Nodes reachable from `root`, each before all nodes it feeds gradients into.
    private static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        // Iterative post-order DFS (graphs of deep models overflow a recursive one).
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, start) = stack.popLast() {
            var next = start
            var pushedChild = false
            while next < node.edges.count {
                let edge = node.edges[next]
                next += 1
                if case .node(let child) = edge, !visited.contains(ObjectIdentifier(child)) {
                    visited.insert(ObjectIdentifier(child))
                    stack.append((node, next))
                    stack.append((child, 0))
                    pushedChild = true
                    break
                }
            }
            if !pushedChild { order.append(node) }
        }
        return order.reversed()
    }
}
