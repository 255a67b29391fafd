#!/usr/bin/env python3
"""PyTorch/timm ViT and Swin speed on CPU, the baseline for the Swift `vpeft` benchmarks.

For each batch size (and mode) it builds `timm.create_model(MODEL, pretrained=False,
num_classes=C)` (random init: weights do not change speed), fp32, on CPU with
`torch.set_num_threads(THREADS)`, runs WARMUP untimed iterations then ITERS timed ones on a fixed
random input, and prints ONE JSON line per configuration:

  {"framework": "pytorch", "torch": ..., "timm": ..., "model": ..., "batch": ..., "mode": ...,
   "images_per_s": ..., "ms_per_batch": ..., "peak_rss_mb": ..., + details}

Modes:
  inference     model.eval(), torch.inference_mode(), logits = model(x)
  train_full    (--train-step) model.train(), all parameters trainable: zero_grad(set_to_none),
                logits = model(x), cross-entropy vs random labels, loss.backward()
  train_linear  (--train-step) linear probe: only head.weight/head.bias require grad (the frozen
                backbone records no autograd graph), same loop as train_full
  train:<method> (--methods) a PEFT method's training step: the method is attached to the timm
                model by its reference implementation in scripts/reference/make_peft_fixtures.py
                (the one the Swift parity tests compare against; default options, intended init),
                and its tensors, the backbone tensors it unfreezes and the head train
                On a Swin (`swin_*` models; the reference implementations are written for the
                ViT) only the backbone-agnostic methods vpeft runs on Swin: `bitfit` trains every
                backbone bias (`*.bias`, not the head's), as vpeft's BitFit does there
  train:peft_lora (--methods peft_lora) the baseline a PyTorch user picks for LoRA: Hugging Face
                `peft.get_peft_model(model, LoraConfig(r=8, lora_alpha=8, target_modules=["qkv"],
                modules_to_save=["head"]))`. timm fuses q, k and v into one `qkv` Linear, so PEFT's
                LoRA adapts all three together (the reference `lora` adapts q and v; the rank-8
                parameter count happens to be the same); trainable_params says how many train, and
                the JSON line also carries the peft version
`--opt-step` adds an AdamW step (lr 1e-3, wd 0.05) to the train modes. Dropout/drop-path are 0
unless --drop-path is given (stochastic depth stays active in train mode, as in the protocol).

ms_per_batch is the mean wall time of the timed iterations (min and median are reported too);
images_per_s = batch / mean seconds. Each configuration runs in its own subprocess so
peak_rss_mb (ru_maxrss of that process, model + data + activations) is per configuration.

Run:  .venv/bin/python scripts/bench/timm_vit_speed.py --model vit_base_patch16_224 \\
          --batch 32 8 --threads 16 --warmup 1 --iters 3 [--train-step] [--opt-step]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def reference_methods():
    """The PEFT reference implementations (importing them pins torch to 1 deterministic thread:
    undone here, the benchmark sets its own thread count)."""
    import importlib.util
    import torch
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "reference", "make_peft_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_peft_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.use_deterministic_algorithms(False)
    return module


def swin_trains(method, model):
    """The backbone tensors a method trains on a timm Swin, by name (vpeft's Swin-capable methods)."""
    if method == "bitfit":
        return [n for n, _ in model.named_parameters() if n.endswith(".bias") and not n.startswith("head.")]
    raise SystemExit(f"{method}: no PyTorch baseline on Swin (only bitfit, and the train_full / train_linear modes)")


def run_one(args, batch, mode):
    import timm
    import torch
    import torch.nn.functional as F

    method = mode.split(":", 1)[1] if mode.startswith("train:") else None
    swin = args.model.startswith("swin")
    reference = reference_methods() if method not in (None, "peft_lora") and not swin else None

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    extra = {"img_size": args.img_size} if args.img_size else {}
    model = timm.create_model(args.model, pretrained=False, num_classes=args.num_classes,
                              drop_path_rate=args.drop_path, **extra).float()
    img = args.img_size or model.pretrained_cfg.get("input_size", (3, 224, 224))[-1]
    x = torch.randn(batch, 3, img, img)
    y = torch.randint(0, args.num_classes, (batch,))

    if mode == "inference":
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)
        trainable = 0
    else:
        model.train()
        if mode == "train_linear":
            for name, p in model.named_parameters():
                p.requires_grad_(name.startswith("head."))
        if method == "peft_lora":  # PEFT freezes the backbone; its LoRA tensors and head copy train
            import peft
            model = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=8, target_modules=["qkv"],
                                                                modules_to_save=["head"]))
        params = [p for p in model.parameters() if p.requires_grad]
        heads = [n for n, _ in model.named_parameters() if n.startswith("head.")]  # ViT head.*, Swin head.fc.*
        if method is not None and swin:
            named = dict(model.named_parameters())
            unfrozen = swin_trains(method, model) + heads
            for n, p in named.items():
                p.requires_grad_(n in unfrozen)
            params = [named[n] for n in unfrozen]
        elif reference is not None:
            attached = reference.METHODS[method]({})
            named = dict(model.named_parameters())
            for p in named.values():
                p.requires_grad_(False)
            new = reference.Tensors("intended", torch.Generator().manual_seed(0), torch.float32)
            attached.attach(model, new)
            unfrozen = list(dict.fromkeys(attached.trains(model) + heads))
            for n in unfrozen:
                named[n].requires_grad_(True)
            params = [named[n] for n in unfrozen] + list(new.tensors.values())
        trainable = sum(p.numel() for p in params)
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05) if args.opt_step else None

        def step():
            model.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if opt is not None:
                opt.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "timm": timm.__version__,
        "model": args.model,
        "batch": batch,
        "mode": mode,
        "images_per_s": round(batch / mean, 3),
        "ms_per_batch": round(mean * 1000, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ms_min": round(min(times) * 1000, 2),
        "ms_median": round(statistics.median(times) * 1000, 2),
        "threads": torch.get_num_threads(),
        "img_size": img,
        "num_classes": args.num_classes,
        "dtype": "float32",
        "warmup": args.warmup,
        "iters": args.iters,
        "trainable_params": trainable,
        "optimizer_step": bool(args.opt_step) and mode != "inference",
        "drop_path": args.drop_path,
        **({"peft": peft.__version__} if method == "peft_lora" else {}),
    }


def main():
    ap = argparse.ArgumentParser(description="timm ViT / Swin CPU speed (one JSON line per configuration)")
    ap.add_argument("--model", default="vit_base_patch16_224")
    ap.add_argument("--batch", type=int, nargs="+", default=[32, 8])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--train-step", action="store_true", help="also time train_full and train_linear")
    ap.add_argument("--opt-step", action="store_true", help="include an AdamW step in the train modes")
    ap.add_argument("--num-classes", type=int, default=100)
    ap.add_argument("--img-size", type=int, default=None, help="default: the model's pretrained_cfg size")
    ap.add_argument("--drop-path", type=float, default=0.0)
    ap.add_argument("--methods", nargs="*", default=[], help="PEFT methods to time a training step of (mode train:<method>); peft_lora: Hugging Face PEFT's LoRA")
    ap.add_argument("--modes", nargs="*", default=None, help="override the modes (inference, train_full, train_linear)")
    ap.add_argument("--single", nargs=2, metavar=("BATCH", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.single:  # child process: one configuration
        print(json.dumps(run_one(args, int(args.single[0]), args.single[1])), flush=True)
        return

    modes = args.modes if args.modes is not None else ["inference"] + (["train_full", "train_linear"] if args.train_step else [])
    modes = modes + [f"train:{m}" for m in args.methods]
    passthrough = sys.argv[1:]
    rc = 0
    for batch in args.batch:
        for mode in modes:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), *passthrough,
                                   "--single", str(batch), mode], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                print(json.dumps({"framework": "pytorch", "model": args.model, "batch": batch,
                                  "mode": mode, "error": proc.stderr.strip().splitlines()[-1:]}), flush=True)
                rc = 1
                continue
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            print(lines[-1], flush=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
