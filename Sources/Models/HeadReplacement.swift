import NN
import Tensor

/// Loading a checkpoint onto a model with a new head (`newHead`): the checkpoint's classifier
/// `<prefix>.weight` / `.bias` is left out when it does not fit the model's `head` (another
/// class count, or no head), so the model keeps its own fresh one. Returns whether it was left
/// out — then the loader keeps the model's own `<prefix>.` tensors.
func droppingMismatchedHead(_ state: inout [String: Tensor], head: Linear?, prefix: String) -> Bool {
    let fits = head.map { h in state["\(prefix).weight"]?.shape == h.weight.shape && state["\(prefix).bias"]?.shape == h.bias?.shape } ?? false
    guard !fits else { return false }
    state["\(prefix).weight"] = nil
    state["\(prefix).bias"] = nil
    return true
}
