/// Activation checkpointing (`torch.utils.checkpoint`): `body(input)` runs without keeping the
/// activations inside it for the backward; the backward runs `body` again from the kept input,
/// with gradients, and backpropagates through that. Memory: the input instead of everything
/// the region keeps; time: the region's forward once more. `body` must compute the same thing
/// both times (no random draws: dropout with a rate above zero inside it would differ).
/// Tensors inside `body` that require gradients (a trainable layer, a method's scale) get
/// them from the inner backward, as without checkpointing.
public func checkpointed(_ input: Tensor, _ body: @escaping (Tensor) -> Tensor) -> Tensor {
    guard GradMode.isEnabled else { return body(input) }
    let needsInputGrad = input.requiresGrad
    // Traced once with gradients on a stand-in input, to learn whether anything inside trains;
    // the traced graph (and what it saved) is dropped on return.
    let probe = input.detached()
    probe.requiresGrad = needsInputGrad
    let traced = body(probe)
    guard traced.requiresGrad else { return traced }
    let out = traced.detached()
    let kept = input.detached()
    out.record("checkpoint", [input]) { g in
        let x = kept.detached()
        x.requiresGrad = needsInputGrad
        let y = withGradients { body(x) }
        y.backward(g)
        return [needsInputGrad ? x.grad : nil]
    }
    return out
}

/// Runs `body` recording a graph (inside a backward pass, which otherwise records none).
func withGradients<T>(_ body: () throws -> T) rethrows -> T {
    let old = GradMode.set(true)
    defer { _ = GradMode.set(old) }
    return try body()
}
