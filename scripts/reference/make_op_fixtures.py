#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for the Swift engine's ops, optimisers and LR schedules.

Output: Tests/TensorTests/Fixtures/{elementwise,reductions,linalg,nn,views,windows,dense,optim,schedules}.safetensors
following the key/metadata convention in scripts/reference/FIXTURES.md (case `C` -> `C.in0..`,
`C.out`, `C.gout`, `C.grad0..`; `__metadata__[C]` = JSON with "op" and the op's parameters).

Everything is float32 (labels/indices int64), seeded per file, deterministic (byte-identical on
rerun), and tiny (the whole set stays well below 1.5 MB). Gradients are autograd gradients of
sum(out * gout) with gout random normal.

Run:  make fixtures
  or: bash scripts/reference/setup_venv.sh && .venv/bin/python scripts/reference/make_op_fixtures.py [FAMILY ...]
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "TensorTests", "Fixtures")

torch.set_num_threads(1)  # deterministic reductions / summation order
torch.use_deterministic_algorithms(True)

_DTYPES = {
    torch.float32: ("F32", np.float32),
    torch.float64: ("F64", np.float64),
    torch.int64: ("I64", np.int64),
}


def write_safetensors(path, tensors, metadata):
    """Minimal, byte-deterministic safetensors writer (keys sorted, header padded to 8 bytes).

    safetensors' own save_file serialises __metadata__ from a hash map, so its byte layout is not
    stable between runs; this writer produces identical bytes for identical content (clean git
    diffs). Files are verified by reading them back with the safetensors library.
    """
    header = {"__metadata__": {k: metadata[k] for k in sorted(metadata)}}
    blobs = []
    offset = 0
    for key in sorted(tensors):
        t = tensors[key].detach().cpu().contiguous()
        dtype_name, np_dtype = _DTYPES[t.dtype]
        data = np.ascontiguousarray(t.numpy(), dtype=np.dtype(np_dtype).newbyteorder("<")).tobytes()
        header[key] = {"dtype": dtype_name, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


class Family:
    """One fixture file: a set of cases."""

    def __init__(self, filename, seed):
        self.filename = filename
        self.tensors = {}
        self.meta = {}
        torch.manual_seed(seed)

    def _new_case(self, name, meta):
        assert "." not in name, name
        assert name not in self.meta, f"duplicate case {name}"
        assert "op" in meta
        self.meta[name] = json.dumps(meta)

    def put(self, name, meta, tensors):
        """Store a case with explicitly given tensors (suffix -> tensor)."""
        self._new_case(name, meta)
        for suffix, t in tensors.items():
            self.tensors[f"{name}.{suffix}"] = t.detach().clone()

    def add(self, name, meta, fn, inputs, nograd=(), forward_only=False):
        """out = fn(*inputs); gout ~ N(0,1); grads of sum(out*gout) for float inputs not in nograd."""
        self._new_case(name, meta)
        ins = []
        for i, x in enumerate(inputs):
            x = x.detach().clone()
            if not forward_only and i not in nograd and x.is_floating_point():
                x.requires_grad_(True)
            ins.append(x)
        out = fn(*ins)
        for i, x in enumerate(ins):
            self.tensors[f"{name}.in{i}"] = x.detach().clone()
        self.tensors[f"{name}.out"] = out.detach().clone()
        if forward_only:
            return
        gout = torch.randn(out.shape)
        (out * gout).sum().backward()
        self.tensors[f"{name}.gout"] = gout
        for i, x in enumerate(ins):
            if x.requires_grad:
                assert x.grad is not None and x.grad.shape == x.shape, (name, i)
                self.tensors[f"{name}.grad{i}"] = x.grad.detach().clone()

    def write(self):
        for k, t in self.tensors.items():
            assert t.dtype in (torch.float32, torch.float64, torch.int64), (k, t.dtype)
            if t.is_floating_point():
                assert torch.isfinite(t).all(), k
        path = os.path.join(OUT_DIR, self.filename)
        write_safetensors(path, self.tensors, self.meta)
        return path


# ----------------------------------------------------------------------------------------------
# helpers

def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


def uniform(lo, hi, *shape):
    return torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo


def away_from(x, points, margin):
    """Push values within `margin` of any of `points` to at least `margin` away (deterministic)."""
    x = x.clone()
    for p in points:
        d = x - p
        close = d.abs() < margin
        x = torch.where(close, p + torch.where(d >= 0, torch.full_like(x, 2 * margin), torch.full_like(x, -2 * margin)), x)
    for p in points:
        assert ((x - p).abs() >= margin).all()
    return x


def nonzero_denominator(*shape, min_abs=0.5):
    r = randn(*shape)
    sign = torch.where(r >= 0, 1.0, -1.0)
    return sign * (min_abs + 0.1 + r.abs())


# ----------------------------------------------------------------------------------------------
# elementwise

def make_elementwise():
    fam = Family("elementwise.safetensors", seed=1001)
    shape = (3, 5)

    unary = [
        ("neg", torch.neg, randn(*shape)),
        ("exp", torch.exp, randn(*shape)),
        ("log", torch.log, uniform(0.2, 3.0, *shape)),
        ("sqrt", torch.sqrt, uniform(0.1, 4.0, *shape)),
        ("abs", torch.abs, away_from(randn(*shape), [0.0], 0.05)),
        ("tanh", torch.tanh, randn(*shape) * 1.5),
        ("sigmoid", torch.sigmoid, randn(*shape) * 2.0),
        ("relu", torch.relu, away_from(randn(*shape), [0.0], 0.05)),
        # relu6: values spread over [-3, 9] (some above 6), none within 0.05 of 0 or 6
        ("relu6", F.relu6, away_from(uniform(-3.0, 9.0, 4, 5), [0.0, 6.0], 0.05)),
        ("gelu", lambda x: F.gelu(x, approximate="none"), randn(*shape) * 2.0),
        ("quick_gelu", lambda x: x * torch.sigmoid(1.702 * x), randn(*shape) * 2.0),
    ]
    for name, fn, x in unary:
        fam.add(name, {"op": name}, fn, [x])

    for case, beta, x in [("silu_b1", 1.0, randn(*shape) * 2.0), ("silu_b100", 100.0, uniform(-0.05, 0.05, *shape))]:
        fam.add(case, {"op": "silu", "beta": beta}, lambda x, b=beta: x * torch.sigmoid(b * x), [x])

    for case, p in [("pow_2", 2.0), ("pow_0_5", 0.5), ("pow_m1_5", -1.5)]:
        fam.add(case, {"op": "pow", "exponent": p}, lambda x, p=p: torch.pow(x, p), [uniform(0.3, 2.5, *shape)])

    for case, v in [("add_scalar_a", 2.5), ("add_scalar_b", -0.75)]:
        fam.add(case, {"op": "add_scalar", "value": v}, lambda x, v=v: x + v, [randn(*shape)])
    for case, v in [("mul_scalar_a", 3.0), ("mul_scalar_b", -0.5)]:
        fam.add(case, {"op": "mul_scalar", "value": v}, lambda x, v=v: x * v, [randn(*shape)])

    # binary broadcasting
    shape_cases = [
        ("same", (3, 4), (3, 4)),
        ("row", (4, 3), (3,)),
        ("3d", (2, 1, 3), (4, 1)),
        ("lead", (3,), (2, 3)),
        ("scalarlike", (1,), (2, 3)),
    ]
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, fn in ops.items():
        for sname, sa, sb in shape_cases:
            a = randn(*sa)
            b = nonzero_denominator(*sb) if op == "div" else randn(*sb)
            fam.add(f"{op}_{sname}", {"op": op}, fn, [a, b])

    # where: in0 = condition (F32 0/1, not differentiable)
    cond = (torch.rand(3, 4) > 0.5).float()
    fam.add("where_same", {"op": "where"}, lambda c, a, b: torch.where(c != 0, a, b),
            [cond, randn(3, 4), randn(3, 4)], nograd=(0,))
    cond = (torch.rand(3, 4) > 0.5).float()
    fam.add("where_bcast", {"op": "where"}, lambda c, a, b: torch.where(c != 0, a, b),
            [cond, randn(3, 4), randn(1)], nograd=(0,))
    return fam


# ----------------------------------------------------------------------------------------------
# reductions

def make_reductions():
    fam = Family("reductions.safetensors", seed=1002)
    dims_list = [[0], [1], [-1], [0, 2], [-2, -1], [0, 1, 2]]

    def tag(dims, keepdim):
        d = "_".join(("m" + str(-x)) if x < 0 else str(x) for x in dims)
        return f"d{d}_{'k' if keepdim else 'nk'}"

    for op in ["sum", "mean", "max"]:
        for dims in dims_list:
            for keepdim in [True, False]:
                if op == "max":
                    # distinct values: a random permutation of well separated numbers
                    x = (torch.randperm(24).float() * 0.37 - 4.0).reshape(2, 3, 4)
                    fn = lambda x, d=dims, k=keepdim: torch.amax(x, dim=d, keepdim=k)
                elif op == "sum":
                    x = randn(2, 3, 4)
                    fn = lambda x, d=dims, k=keepdim: torch.sum(x, dim=d, keepdim=k)
                else:
                    x = randn(2, 3, 4)
                    fn = lambda x, d=dims, k=keepdim: torch.mean(x, dim=d, keepdim=k)
                fam.add(f"{op}_{tag(dims, keepdim)}", {"op": op, "dims": dims, "keepdim": keepdim}, fn, [x])

    for dims, keepdim, corr in [([-1], True, 0), ([-1], False, 1), ([0], False, 1), ([0, 2], True, 0),
                                ([1], True, 1), ([0, 1, 2], False, 0), ([0, 1, 2], True, 1)]:
        fam.add(f"var_{tag(dims, keepdim)}_c{corr}", {"op": "var", "dims": dims, "keepdim": keepdim, "correction": corr},
                lambda x, d=dims, k=keepdim, c=corr: torch.var(x, dim=d, keepdim=k, correction=c), [randn(2, 3, 4)])
    return fam


# ----------------------------------------------------------------------------------------------
# linalg

def make_linalg():
    fam = Family("linalg.safetensors", seed=1003)

    def op_t(x, flag):
        return x.transpose(-1, -2) if flag else x

    def mm_case(name, batch, M, K, N, ta, tb):
        a = randn(*batch, *((K, M) if ta else (M, K)))
        b = randn(*batch, *((N, K) if tb else (K, N)))
        fam.add(name, {"op": "matmul", "trans_a": ta, "trans_b": tb},
                lambda a, b, ta=ta, tb=tb: torch.matmul(op_t(a, ta), op_t(b, tb)), [a, b])

    for ta in [False, True]:
        for tb in [False, True]:
            mm_case(f"matmul2d_{'t' if ta else 'n'}{'t' if tb else 'n'}", (), 3, 4, 5, ta, tb)
    mm_case("matmul3d_nn", (2,), 3, 4, 5, False, False)
    mm_case("matmul3d_nt", (2,), 3, 4, 2, False, True)
    mm_case("matmul3d_tn", (2,), 4, 3, 5, True, False)
    mm_case("matmul4d_nn", (2, 2), 3, 4, 3, False, False)
    mm_case("matmul4d_nt", (2, 2), 3, 4, 3, False, True)  # q @ k^T style
    mm_case("matmul4d_tt", (2, 3), 2, 3, 4, True, True)

    w = randn(5, 4)
    b = randn(5)
    fam.add("linear2d_bias", {"op": "linear", "bias": True}, lambda x, w, b: F.linear(x, w, b), [randn(3, 4), w, b])
    fam.add("linear2d_nobias", {"op": "linear", "bias": False}, lambda x, w: F.linear(x, w), [randn(3, 4), randn(5, 4)])
    fam.add("linear3d_bias", {"op": "linear", "bias": True}, lambda x, w, b: F.linear(x, w, b),
            [randn(2, 3, 4), randn(6, 4), randn(6)])
    fam.add("linear3d_nobias", {"op": "linear", "bias": False}, lambda x, w: F.linear(x, w),
            [randn(2, 3, 4), randn(6, 4)])

    fam.add("kron_a", {"op": "kron"}, torch.kron, [randn(2, 3), randn(3, 2)])
    fam.add("kron_b", {"op": "kron"}, torch.kron, [randn(2, 2), randn(2, 4)])
    return fam


# ----------------------------------------------------------------------------------------------
# nn

def same_pad_amounts(size, k, s):
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    before = total // 2
    return before, total - before


def conv2d_ref(x, w, b, stride, padding, groups):
    if padding == "same":
        kh, kw = w.shape[-2:]
        pt, pb = same_pad_amounts(x.shape[-2], kh, stride[0])
        pl, pr = same_pad_amounts(x.shape[-1], kw, stride[1])
        x = F.pad(x, (pl, pr, pt, pb))
        return F.conv2d(x, w, b, stride=stride, padding=0, groups=groups)
    return F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)


def attention_ref(q, k, v, ek=None, ev=None, scale=1.0, probs_only=False):
    if ek is not None:
        B = q.shape[0]
        k = torch.cat([k, ek.unsqueeze(0).expand(B, *ek.shape)], dim=-2)
        v = torch.cat([v, ev.unsqueeze(0).expand(B, *ev.shape)], dim=-2)
    p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * scale, dim=-1)
    if probs_only:
        return p
    return torch.matmul(p, v)


def make_nn():
    fam = Family("nn.safetensors", seed=1004)

    # layer_norm
    for name, shape, eps in [("layer_norm_2d", (3, 8), 1e-6), ("layer_norm_3d", (2, 3, 8), 1e-6),
                             ("layer_norm_eps5", (2, 3, 6), 1e-5)]:
        D = shape[-1]
        x = randn(*shape) * 2.0 + 0.5
        fam.add(name, {"op": "layer_norm", "eps": eps},
                lambda x, w, b, eps=eps: F.layer_norm(x, (x.shape[-1],), w, b, eps),
                [x, 1.0 + 0.3 * randn(D), 0.2 * randn(D)])

    # softmax / log_softmax
    fam.add("softmax_a", {"op": "softmax", "dim": -1}, lambda x: torch.softmax(x, dim=-1), [randn(2, 3, 5)])
    fam.add("softmax_large", {"op": "softmax", "dim": -1}, lambda x: torch.softmax(x, dim=-1), [randn(3, 6) * 20.0])
    fam.add("log_softmax_a", {"op": "log_softmax", "dim": -1}, lambda x: torch.log_softmax(x, dim=-1), [randn(2, 3, 5)])
    fam.add("log_softmax_large", {"op": "log_softmax", "dim": -1}, lambda x: torch.log_softmax(x, dim=-1),
            [randn(3, 6) * 20.0])

    # attention
    B, H, N, Dh, P = 2, 2, 3, 4, 2
    for extra in [False, True]:
        for scale in [Dh ** -0.5, 0.3]:
            tagname = f"{'extra' if extra else 'plain'}_s{str(scale).replace('.', '_')}"
            q, k, v = randn(B, H, N, Dh), randn(B, H, N, Dh), randn(B, H, N, Dh)
            ins = [q, k, v]
            if extra:
                ins += [randn(H, P, Dh), randn(H, P, Dh)]
            if extra:
                fn = lambda q, k, v, ek, ev, s=scale: attention_ref(q, k, v, ek, ev, scale=s)
                pfn = lambda q, k, v, ek, ev, s=scale: attention_ref(q, k, v, ek, ev, scale=s, probs_only=True)
            else:
                fn = lambda q, k, v, s=scale: attention_ref(q, k, v, scale=s)
                pfn = lambda q, k, v, s=scale: attention_ref(q, k, v, scale=s, probs_only=True)
            fam.add(f"attention_{tagname}", {"op": "attention", "scale": scale, "extra": extra}, fn, ins)
            fam.add(f"attention_probs_{tagname}", {"op": "attention_probs", "scale": scale, "extra": extra}, pfn, ins,
                    forward_only=True)

    # cross entropy (mean reduction; == timm LabelSmoothingCrossEntropy)
    import timm.loss
    for name, s in [("cross_entropy_s0", 0.0), ("cross_entropy_s0_1", 0.1)]:
        logits = randn(4, 5) * 2.0
        target = torch.tensor([1, 0, 4, 1], dtype=torch.int64)
        fam.add(name, {"op": "cross_entropy", "label_smoothing": s},
                lambda x, t, s=s: F.cross_entropy(x, t, label_smoothing=s), [logits, target], nograd=(1,))
        if s > 0:
            ref = timm.loss.LabelSmoothingCrossEntropy(smoothing=s)(logits, target)
            assert torch.allclose(ref, fam.tensors[f"{name}.out"], atol=1e-6), "timm LSCE mismatch"

    # batch_norm (inference form); grads only for x, weight, bias
    for name, eps in [("batch_norm_a", 1e-5), ("batch_norm_b", 1e-3)]:
        C = 3
        x = randn(2, C, 3, 4)
        rm, rv = 0.5 * randn(C), uniform(0.5, 2.0, C)
        fam.add(name, {"op": "batch_norm", "eps": eps},
                lambda x, rm, rv, w, b, eps=eps: F.batch_norm(x, rm, rv, w, b, training=False, eps=eps),
                [x, rm, rv, 1.0 + 0.3 * randn(C), 0.2 * randn(C)], nograd=(1, 2))

    # conv2d
    conv_cases = [
        # name, x shape, (O, kh, kw), stride, padding, groups, bias
        ("conv_3x3_s1_p1", (1, 2, 5, 5), (3, 3, 3), [1, 1], [1, 1], 1, True),
        ("conv_3x3_s2_same_odd", (1, 2, 7, 7), (3, 3, 3), [2, 2], "same", 1, True),
        ("conv_3x3_s2_same_even", (1, 2, 6, 8), (3, 3, 3), [2, 2], "same", 1, True),
        ("conv_5x5_s2_same_dw", (1, 3, 9, 8), (3, 5, 5), [2, 2], "same", 3, True),
        ("conv_1x1_s1_p0_nobias", (2, 3, 4, 4), (5, 1, 1), [1, 1], [0, 0], 1, False),
        ("conv_2x2_s2_p0", (1, 2, 6, 6), (3, 2, 2), [2, 2], [0, 0], 1, True),
        ("conv_3x3_g2", (1, 4, 5, 5), (6, 3, 3), [1, 1], [1, 1], 2, True),
        ("conv_patch4", (1, 3, 8, 8), (6, 4, 4), [4, 4], [0, 0], 1, True),
        ("conv_3x3_s1_same_dw", (1, 4, 5, 6), (4, 3, 3), [1, 1], "same", 4, True),
    ]
    for name, xs, (O, kh, kw), stride, padding, groups, bias in conv_cases:
        C = xs[1]
        x = randn(*xs)
        w = randn(O, C // groups, kh, kw) * 0.5
        meta = {"op": "conv2d", "stride": stride, "padding": padding, "groups": groups, "bias": bias}
        if bias:
            fam.add(name, meta, lambda x, w, b, s=stride, p=padding, g=groups: conv2d_ref(x, w, b, s, p, g),
                    [x, w, randn(O)])
        else:
            fam.add(name, meta, lambda x, w, s=stride, p=padding, g=groups: conv2d_ref(x, w, None, s, p, g), [x, w])

    # pooling
    for name, xs, k, s, p, cip in [
        ("avg_pool_k2_s2", (1, 2, 6, 6), 2, 2, 0, True),
        ("avg_pool_k3_s1_p1_incl", (1, 2, 5, 5), 3, 1, 1, True),
        ("avg_pool_k3_s1_p1_excl", (1, 2, 5, 5), 3, 1, 1, False),
        ("avg_pool_k3_s2_p1_excl", (2, 2, 6, 7), 3, 2, 1, False),
    ]:
        fam.add(name, {"op": "avg_pool2d", "kernel": [k, k], "stride": [s, s], "padding": [p, p],
                       "count_include_pad": cip},
                lambda x, k=k, s=s, p=p, c=cip: F.avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=c),
                [randn(*xs)])
    fam.add("global_avg_pool", {"op": "global_avg_pool"}, lambda x: x.mean(dim=(-2, -1)), [randn(2, 3, 4, 5)])

    # resize (F.interpolate, align_corners=False)
    for name, hin, win, hout, wout, mode, aa in [
        ("resize_bilinear_up", 5, 5, 8, 8, "bilinear", False),
        ("resize_bilinear_down", 8, 8, 5, 5, "bilinear", False),
        ("resize_bilinear_up_rect", 5, 6, 8, 9, "bilinear", False),
        ("resize_bicubic_up", 5, 5, 8, 8, "bicubic", False),
        ("resize_bicubic_down", 8, 8, 5, 5, "bicubic", False),
        ("resize_bicubic_aa_up", 7, 7, 12, 12, "bicubic", True),
        ("resize_bicubic_aa_down", 12, 12, 7, 7, "bicubic", True),
        ("resize_bilinear_aa_down", 8, 8, 5, 5, "bilinear", True),
    ]:
        fam.add(name, {"op": "resize", "size": [hout, wout], "mode": mode, "antialias": aa},
                lambda x, h=hout, w=wout, m=mode, a=aa: F.interpolate(x, size=(h, w), mode=m, align_corners=False,
                                                                      antialias=a),
                [randn(1, 2, hin, win)])
    return fam


# ----------------------------------------------------------------------------------------------
# dense heads (UPerNet / FCN): pyramid pooling, bilinear upsampling to feature sizes, BatchNorm in training form

def make_dense():
    fam = Family("dense.safetensors", seed=1011)
    # adaptive average pooling: PyTorch's bins, dividing, overlapping (7 -> 3, 5 -> 3) and growing (2 -> 3)
    for name, hin, win, hout, wout in [
        ("adaptive_pool_6_to_1", 6, 6, 1, 1),
        ("adaptive_pool_6_to_2", 6, 6, 2, 2),
        ("adaptive_pool_6_to_3", 6, 6, 3, 3),
        ("adaptive_pool_7x5_to_3x3", 7, 5, 3, 3),
        ("adaptive_pool_2_to_3", 2, 2, 3, 3),
        ("adaptive_pool_5x4_to_6x6", 5, 4, 6, 6),
    ]:
        fam.add(name, {"op": "adaptive_avg_pool2d", "size": [hout, wout]},
                lambda x, h=hout, w=wout: F.adaptive_avg_pool2d(x, (h, w)), [randn(2, 3, hin, win)])
    # bilinear upsampling as UPerNet uses it (pooled maps to the feature size, stride 2^k steps, to the input)
    for name, hin, win, hout, wout in [
        ("bilinear_1_to_5", 1, 1, 5, 5),
        ("bilinear_3_to_8", 3, 3, 8, 8),
        ("bilinear_4_to_16", 4, 4, 16, 16),
        ("bilinear_6x3_to_7x13", 6, 3, 7, 13),
    ]:
        fam.add(name, {"op": "resize", "size": [hout, wout], "mode": "bilinear", "antialias": False},
                lambda x, h=hout, w=wout: F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False),
                [randn(2, 2, hin, win)])
    # BatchNorm in training form: output and gradients (through the batch statistics), then the
    # running statistics after that step (momentum 0.1, unbiased variance) as a forward-only case
    for name, shape, eps in [("batch_norm_train_a", (3, 4, 5, 6), 1e-5), ("batch_norm_train_b", (2, 3, 2, 2), 1e-3)]:
        x, w, b = randn(*shape) * 2 + 0.5, randn(shape[1]), randn(shape[1])
        fam.add(name, {"op": "batch_norm_train", "eps": eps},
                lambda x, w, b, eps=eps: F.batch_norm(x, None, None, w, b, training=True, eps=eps), [x, w, b])
        running_mean, running_var = randn(shape[1]), uniform(0.5, 2, shape[1])
        rm, rv = running_mean.clone(), running_var.clone()
        F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=eps)
        fam.put(name + "_running", {"op": "batch_norm_running", "eps": eps, "momentum": 0.1},
                {"in0": x, "in1": running_mean, "in2": running_var, "out": torch.stack([rm, rv])})
    # per-pixel cross-entropy with an ignore index (mean over labelled pixels)
    for name, shape, ignored in [("pixel_cross_entropy_a", (2, 4, 3, 5), 0.25), ("pixel_cross_entropy_b", (1, 3, 4, 4), 0.0)]:
        targets = torch.randint(0, shape[1], (shape[0],) + shape[2:])
        targets[torch.rand(targets.shape) < ignored] = 255
        fam.add(name, {"op": "pixel_cross_entropy", "ignore_index": 255},
                lambda x, t: F.cross_entropy(x, t, ignore_index=255), [randn(*shape), targets])
    return fam


# ----------------------------------------------------------------------------------------------
# views

def make_conv_transpose():
    """Its own family, so that adding it left the nn cases' random draws unchanged."""
    fam = Family("conv_transpose.safetensors", seed=9)
    # conv_transpose2d (nn.ConvTranspose2d; weight [in, out/groups, kh, kw])
    for name, xs, (O, kh, kw), stride, padding, out_pad, groups, bias in [
        # name, x shape, (out channels, kh, kw), stride, padding, output_padding, groups, bias
        ("convT_4x4_s2_p1", (2, 3, 4, 5), (4, 4, 4), [2, 2], [1, 1], [0, 0], 1, True),
        ("convT_3x3_s2_p1_op1", (1, 2, 3, 3), (3, 3, 3), [2, 2], [1, 1], [1, 1], 1, True),
        ("convT_3x3_s1_p0_nobias", (1, 3, 4, 4), (2, 3, 3), [1, 1], [0, 0], [0, 0], 1, False),
        ("convT_2x2_s2_g2", (1, 4, 3, 3), (6, 2, 2), [2, 2], [0, 0], [0, 0], 2, True),
        ("convT_1x1", (2, 3, 3, 2), (2, 1, 1), [1, 1], [0, 0], [0, 0], 1, True),
        ("convT_3x3_s3_p2_op2", (1, 2, 4, 3), (3, 3, 3), [3, 3], [2, 2], [2, 2], 1, True),
        ("convT_4x4_s2_p1_wide", (1, 8, 2, 3), (5, 4, 4), [2, 2], [1, 1], [1, 0], 1, False),
    ]:
        C = xs[1]
        meta = {"op": "conv_transpose2d", "stride": stride, "padding": padding, "output_padding": out_pad,
                "groups": groups, "bias": bias}
        ref = lambda x, w, b=None, s=stride, p=padding, op=out_pad, g=groups: F.conv_transpose2d(
            x, w, b, stride=s, padding=p, output_padding=op, groups=g)
        inputs = [randn(*xs), randn(C, O // groups, kh, kw) * 0.5] + ([randn(O)] if bias else [])
        fam.add(name, meta, ref, inputs)
    return fam


def make_max_pool():
    """Max pooling (Feature2Pyramid's downsample_2x), its own family so the others' draws stay put."""
    fam = Family("max_pool.safetensors", seed=13)
    for name, xs, kernel, stride, ties in [
        ("max_pool_2x2_even", (2, 3, 4, 6), [2, 2], [2, 2], False),
        ("max_pool_2x2_odd", (1, 2, 5, 5), [2, 2], [2, 2], False),   # floor mode: last row/column dropped
        ("max_pool_3x3_s2", (1, 2, 7, 6), [3, 3], [2, 2], False),    # overlapping windows
        ("max_pool_2x3_s1x2", (2, 1, 4, 7), [2, 3], [1, 2], False),
        ("max_pool_4x4", (1, 3, 9, 8), [4, 4], [4, 4], False),        # Feature2Pyramid's downsample_4x
        ("max_pool_ties", (1, 2, 4, 4), [2, 2], [2, 2], True),        # equal values: the first wins
    ]:
        x = torch.round(randn(*xs)) if ties else randn(*xs)
        fam.add(name, {"op": "max_pool2d", "kernel": kernel, "stride": stride},
                lambda x, k=kernel, s=stride: F.max_pool2d(x, k, s), [x])
    return fam


def make_views():
    fam = Family("views.safetensors", seed=1005)
    fam.add("permute_a", {"op": "permute", "dims": [2, 0, 1]}, lambda x: x.permute(2, 0, 1), [randn(2, 3, 4)])
    fam.add("permute_b", {"op": "permute", "dims": [0, 2, 1, 3]}, lambda x: x.permute(0, 2, 1, 3), [randn(2, 3, 2, 4)])
    fam.add("narrow_a", {"op": "narrow", "dim": 1, "start": 1, "length": 2}, lambda x: x.narrow(1, 1, 2),
            [randn(2, 4, 3)])
    fam.add("narrow_b", {"op": "narrow", "dim": -1, "start": 0, "length": 3}, lambda x: x.narrow(-1, 0, 3),
            [randn(2, 5)])
    fam.add("cat_a", {"op": "cat", "dim": 0, "count": 2}, lambda a, b: torch.cat([a, b], 0), [randn(2, 3), randn(1, 3)])
    fam.add("cat_b", {"op": "cat", "dim": -1, "count": 3}, lambda a, b, c: torch.cat([a, b, c], -1),
            [randn(2, 2, 1), randn(2, 2, 3), randn(2, 2, 2)])
    fam.add("cat_c", {"op": "cat", "dim": 1, "count": 2}, lambda a, b: torch.cat([a, b], 1),
            [randn(2, 1, 3), randn(2, 3, 3)])
    fam.add("expand_a", {"op": "expand", "shape": [2, 4, 3]}, lambda x: x.expand(2, 4, 3), [randn(2, 1, 3)])
    fam.add("expand_b", {"op": "expand", "shape": [2, 3, 4]}, lambda x: x.expand(2, 3, 4), [randn(3, 1)])
    fam.add("index_select_a", {"op": "index_select", "dim": 0}, lambda x, i: torch.index_select(x, 0, i),
            [randn(4, 3), torch.tensor([2, 0, 2, 3], dtype=torch.int64)], nograd=(1,))
    fam.add("index_select_b", {"op": "index_select", "dim": 1}, lambda x, i: torch.index_select(x, 1, i),
            [randn(2, 5, 2), torch.tensor([4, 1, 1], dtype=torch.int64)], nograd=(1,))
    fam.add("reshape_a", {"op": "reshape", "shape": [6, 4]}, lambda x: x.reshape(6, 4), [randn(2, 3, 4)])
    fam.add("reshape_b", {"op": "reshape", "shape": [2, 2, 3]}, lambda x: x.reshape(2, 2, 3), [randn(3, 4)])
    return fam


# ----------------------------------------------------------------------------------------------
# windows (the ops of Swin Transformer, checked against timm's own functions)

def make_windows():
    from timm.models.swin_transformer import SwinTransformerBlock, WindowAttention, window_partition, window_reverse
    fam = Family("windows.safetensors", seed=1008)

    for name, shape, shifts, dims in [("roll_hw_back", (2, 5, 6, 3), [-2, -2], [1, 2]),
                                      ("roll_hw_mixed", (2, 5, 6, 3), [3, -7], [1, 2]),
                                      ("roll_one_axis", (3, 4), [1], [1])]:
        fam.add(name, {"op": "roll", "shifts": shifts, "dims": dims},
                lambda x, s=shifts, d=dims: torch.roll(x, shifts=s, dims=d), [randn(*shape)])

    # F.pad's last-axis-first pairs, one axis per case
    for name, shape, dim, before, after in [("pad_h_after", (2, 5, 6, 3), 1, 0, 3),
                                            ("pad_w_after", (2, 5, 6, 3), 2, 0, 1),
                                            ("pad_both_sides", (2, 3, 4), 1, 2, 1)]:
        pairs = [0, 0] * (len(shape) - 1 - dim) + [before, after]
        fam.add(name, {"op": "pad", "dim": dim, "before": before, "after": after},
                lambda x, p=pairs: F.pad(x, p), [randn(*shape)])

    for name, shape, w in [("window_partition_2", (2, 6, 4, 3), 2), ("window_partition_3", (1, 6, 9, 2), 3)]:
        c = shape[-1]
        fam.add(name, {"op": "window_partition", "window": w},
                lambda x, w=w, c=c: window_partition(x, (w, w)).reshape(-1, w * w, c), [randn(*shape)])
    for name, (b, h, wd, c), w in [("window_reverse_2", (2, 6, 4, 3), 2), ("window_reverse_3", (1, 6, 9, 2), 3)]:
        windows = randn(b * (h // w) * (wd // w), w * w, c)
        fam.add(name, {"op": "window_reverse", "window": w, "height": h, "width": wd},
                lambda x, w=w, h=h, wd=wd, c=c: window_reverse(x.reshape(-1, w, w, c), (w, w), h, wd), [windows])

    # PatchMerging's gather, exactly as timm's forward writes it
    for name, shape in [("space_to_depth_a", (2, 4, 6, 3)), ("space_to_depth_b", (1, 2, 2, 5))]:
        fam.add(name, {"op": "space_to_depth_2x2"},
                lambda x: x.reshape(x.shape[0], x.shape[1] // 2, 2, x.shape[2] // 2, 2, x.shape[3]).permute(0, 1, 3, 4, 2, 5).flatten(3),
                [randn(*shape)])

    # window attention: the reference is timm's non-fused formula on the qkv output; a timm
    # WindowAttention module run on the same qkv weights must agree with it (checked below).
    def window_attention_ref(qkv, bias, mask, heads, scale):
        bw, n, _ = qkv.shape
        q, k, v = qkv.reshape(bw, n, 3, heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q * scale) @ k.transpose(-2, -1) + bias.unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = (attn.view(-1, nw, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, heads, n, n)
        return (attn.softmax(-1) @ v).transpose(1, 2).reshape(bw, n, -1)

    dim, heads, w = 6, 2, 2
    block = SwinTransformerBlock(dim, input_resolution=(4, 4), num_heads=heads, window_size=w, shift_size=1)
    mask = block.attn_mask.detach().clone()  # [4 windows, 4, 4], 0 / -100
    assert mask.shape == (4, w * w, w * w) and set(mask.unique().tolist()) == {0.0, -100.0}
    scale = (dim // heads) ** -0.5
    for name, masked in [("window_attention_masked", True), ("window_attention_plain", False)]:
        qkv = randn(2 * 4, w * w, 3 * dim)
        bias = 0.5 * randn(heads, w * w, w * w)
        ins = [qkv, bias] + ([mask] if masked else [])
        fn = (lambda q, b, m: window_attention_ref(q, b, m, heads, scale)) if masked else \
            (lambda q, b: window_attention_ref(q, b, None, heads, scale))
        fam.add(name, {"op": "window_attention", "heads": heads, "scale": scale, "masked": masked}, fn, ins,
                nograd=(2,))
    with torch.no_grad():
        attn = WindowAttention(dim, num_heads=heads, window_size=w)
        attn.relative_position_bias_table.normal_()
        x = randn(8, w * w, dim)
        table_bias = attn.relative_position_bias_table[attn.relative_position_index.view(-1)].view(w * w, w * w, -1).permute(2, 0, 1)
        for fused in (False, True):
            attn.fused_attn = fused
            ours = attn.proj(window_attention_ref(attn.qkv(x), table_bias, mask, heads, attn.scale))
            assert (attn(x, mask=mask) - ours).abs().max() < 1e-5, "window attention reference disagrees with timm"
    return fam


# ----------------------------------------------------------------------------------------------
# optim

def make_optim():
    fam = Family("optim.safetensors", seed=1006)
    T, n = 5, 6

    def run(opt_ctor, p0, grads):
        p = torch.nn.Parameter(p0.clone())
        opt = opt_ctor([p])
        outs = []
        for t in range(grads.shape[0]):
            p.grad = grads[t].clone()
            opt.step()
            outs.append(p.detach().clone())
        return torch.stack(outs)

    for name, lr, betas, eps, wd in [("adamw_a", 1e-2, [0.9, 0.999], 1e-8, 0.05),
                                     ("adamw_b", 5e-3, [0.8, 0.99], 1e-6, 0.0),
                                     ("adamw_c", 1e-1, [0.9, 0.999], 1e-8, 0.1)]:
        p0, grads = randn(n), randn(T, n)
        out = run(lambda ps: torch.optim.AdamW(ps, lr=lr, betas=tuple(betas), eps=eps, weight_decay=wd,
                                               foreach=False), p0, grads)
        fam.put(name, {"op": "adamw", "lr": lr, "betas": betas, "eps": eps, "weight_decay": wd},
                {"in0": p0, "in1": grads, "out": out})

    for name, lr, mom, wd, nest in [("sgd_plain", 0.1, 0.0, 0.0, False),
                                    ("sgd_wd", 0.1, 0.0, 1e-2, False),
                                    ("sgd_momentum", 0.1, 0.9, 1e-4, False),
                                    ("sgd_nesterov", 0.05, 0.9, 5e-4, True)]:
        p0, grads = randn(n), randn(T, n)
        out = run(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mom, weight_decay=wd, nesterov=nest, dampening=0,
                                             foreach=False), p0, grads)
        fam.put(name, {"op": "sgd", "lr": lr, "momentum": mom, "weight_decay": wd, "nesterov": nest, "dampening": 0},
                {"in0": p0, "in1": grads, "out": out})

    for name, max_norm in [("clip_grad_norm_clips", 1.0), ("clip_grad_norm_noclip", 100.0)]:
        g0, g1 = randn(3, 4), randn(5)
        p0, p1 = torch.nn.Parameter(torch.zeros(3, 4)), torch.nn.Parameter(torch.zeros(5))
        p0.grad, p1.grad = g0.clone(), g1.clone()
        total = torch.nn.utils.clip_grad_norm_([p0, p1], max_norm=max_norm, norm_type=2.0, foreach=False)
        clipped = not torch.equal(p0.grad, g0)
        assert clipped == (max_norm < total.item()), name
        fam.put(name, {"op": "clip_grad_norm", "max_norm": max_norm},
                {"in0": g0, "in1": g1, "out0": p0.grad, "out1": p1.grad, "total_norm": total.reshape(1)})
    return fam


# ----------------------------------------------------------------------------------------------
# schedules (timm), values read from optimizer.param_groups[0]["lr"] after sched.step(t)
# (t_in_epochs=True) or sched.step_update(t) (t_in_epochs=False), for t = 0 .. len-1.

def timm_lr_sequence(make_sched, base_lr, t_in_epochs, count):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_sched(opt)
    vals = []
    for t in range(count):
        if t_in_epochs:
            sched.step(t)
        else:
            sched.step_update(t)
        lr = opt.param_groups[0]["lr"]
        assert lr == sched._get_lr(t)[0]
        vals.append(lr)
    return vals


def make_schedules():
    from timm.scheduler import CosineLRScheduler, StepLRScheduler
    fam = Family("schedules.safetensors", seed=1007)

    cosine_cases = [
        ("cosine_vpetl", dict(base_lr=1e-3, t_initial=100, warmup_t=10, lr_min=1e-5, warmup_lr_init=1e-6,
                              warmup_prefix=False, t_in_epochs=True)),
        ("cosine_warmup_prefix", dict(base_lr=1e-3, t_initial=100, warmup_t=10, lr_min=1e-5, warmup_lr_init=1e-6,
                                      warmup_prefix=True, t_in_epochs=True)),
        ("cosine_steps", dict(base_lr=5e-4, t_initial=1000, warmup_t=50, lr_min=1e-6, warmup_lr_init=1e-7,
                              warmup_prefix=False, t_in_epochs=False)),
    ]
    for name, c in cosine_cases:
        vals = timm_lr_sequence(
            lambda opt: CosineLRScheduler(opt, t_initial=c["t_initial"], lr_min=c["lr_min"], cycle_limit=1,
                                          warmup_t=c["warmup_t"], warmup_lr_init=c["warmup_lr_init"],
                                          warmup_prefix=c["warmup_prefix"], t_in_epochs=c["t_in_epochs"]),
            c["base_lr"], c["t_in_epochs"], c["t_initial"] + 11)
        meta = {"op": "cosine", "base_lr": c["base_lr"], "t_initial": c["t_initial"], "warmup_t": c["warmup_t"],
                "lr_min": c["lr_min"], "warmup_lr_init": c["warmup_lr_init"], "warmup_prefix": c["warmup_prefix"],
                "cycle_limit": 1, "t_in_epochs": c["t_in_epochs"]}
        v64 = torch.tensor(vals, dtype=torch.float64)
        fam.put(name, meta, {"out": v64.float(), "out64": v64})

    # NOTE: timm StepLRScheduler defaults to warmup_prefix=True; it is recorded in the metadata.
    for name, base_lr, decay_t, decay_rate, warmup_t, warmup_lr_init, count in [
        ("step_lr_a", 1e-2, 30, 0.1, 0, 0.0, 100),
        ("step_lr_warmup", 1e-3, 10, 0.5, 5, 1e-5, 50),
    ]:
        vals = timm_lr_sequence(
            lambda opt: StepLRScheduler(opt, decay_t=decay_t, decay_rate=decay_rate, warmup_t=warmup_t,
                                        warmup_lr_init=warmup_lr_init, warmup_prefix=True, t_in_epochs=True),
            base_lr, True, count)
        meta = {"op": "step_lr", "base_lr": base_lr, "decay_t": decay_t, "decay_rate": decay_rate,
                "warmup_t": warmup_t, "warmup_lr_init": warmup_lr_init, "warmup_prefix": True}
        v64 = torch.tensor(vals, dtype=torch.float64)
        fam.put(name, meta, {"out": v64.float(), "out64": v64})
    return fam


# ----------------------------------------------------------------------------------------------

MAKERS = {"elementwise": make_elementwise, "reductions": make_reductions, "linalg": make_linalg, "nn": make_nn, "conv_transpose": make_conv_transpose,
          "max_pool": make_max_pool, "views": make_views, "windows": make_windows, "dense": make_dense, "optim": make_optim, "schedules": make_schedules}


def main():
    """Writes every family, or only those named on the command line (`make_op_fixtures.py windows`)."""
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for name in sys.argv[1:]:
        if name not in MAKERS:
            sys.exit(f"unknown family '{name}'; known: {', '.join(MAKERS)}")
    for name, maker in MAKERS.items():
        if sys.argv[1:] and name not in sys.argv[1:]:
            continue
        fam = maker()
        path = fam.write()
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, REPO)}: {len(fam.meta)} cases, {len(fam.tensors)} tensors, {size} bytes")
    print(f"total: {total} bytes (torch {torch.__version__})")
    if total >= 1_500_000:
        print("error: fixture set exceeds 1.5 MB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
