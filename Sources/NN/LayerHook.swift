import Tensor

/// A PEFT method's handle on one layer (a *site*): it gets the layer's input and the layer's
/// own forward (`next`, which already includes any hooks installed before it) and returns the
/// output. A LoRA returns `next(x) + ΔW·x`, SSF `γ ⊙ next(x) + β`, RepAdapter `next(x + A(x))`.
/// Layers with no hooks run their plain forward; the backbone never names a method.
public protocol LayerHook: AnyObject {
    func callAsFunction(_ x: Tensor, next: (Tensor) -> Tensor) -> Tensor
}

/// Runs `base` wrapped by `hooks` (the first installed is innermost).
@inline(__always)
func run(_ x: Tensor, hooks: [LayerHook], base: @escaping (Tensor) -> Tensor) -> Tensor {
    if hooks.isEmpty { return base(x) }
    var forward = base
    for hook in hooks {
        let inner = forward
        forward = { hook($0, next: inner) }
    }
    return forward(x)
}
