#!/usr/bin/env python3
"""Runs the same ViT or Swin speed configurations through `vpeft bench-speed` (Swift) and
timm/PyTorch (scripts/bench/timm_vit_speed.py) in one session on one machine, and prints a
Markdown table of images/s, peak memory and the vpeft/PyTorch ratio.

Both sides: random-init weights (speed does not depend on them), fp32, the same thread count,
1 warm-up then ITERS timed iterations (mean). Train modes include the AdamW step.

Run (after `swift build -c release` and `bash scripts/reference/setup_venv.sh`):
  .venv/bin/python scripts/bench/compare_speed.py --model vit_base_patch16_224 --batch 32 8 \
      --modes inference train_full train_linear --methods lora adapter adaptformer vpt_deep ssf bitfit \
      --threads 2 --iters 3

Swin-B rows (the paper's second classification backbone): the same command with
`--model swin_base_patch4_window7_224`; on Swin the methods are those vpeft runs there (full and
linear as modes, `--methods bitfit`), and PyTorch's BitFit trains every backbone bias as ours does.
  .venv/bin/python scripts/bench/compare_speed.py --model swin_base_patch4_window7_224 --batch 8 \
      --modes inference train_full train_linear --methods bitfit --threads 2 --iters 3

PEFT methods (`--methods`) run on the PyTorch side through their reference implementations in
scripts/reference/make_peft_fixtures.py (written for clarity and parity, like Hugging Face PEFT's
tuners: each patches the timm modules' forwards), on ours through `vpeft bench-speed --methods`.
`--hf-peft` adds, for `lora`, the baseline a PyTorch user actually picks: timm + Hugging Face `peft`
(timm_vit_speed.py's `peft_lora`: rank 8 on the fused qkv, so q, k and v all adapted, head trained),
timed as a second PyTorch row of that configuration; every vpeft variant gets a row against each.

`--vpeft PATH` times another vpeft binary (default .build/release/vpeft), e.g. one built for an older
CPU into its own scratch path; its peers' instruction sets are capped through the environment.
"""

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lines_of_json(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="vit_base_patch16_224")
    p.add_argument("--batch", type=int, nargs="+", default=[32, 8])
    p.add_argument("--modes", nargs="*", default=["inference"], choices=["inference", "train_full", "train_linear"])
    p.add_argument("--methods", nargs="*", default=[], help="PEFT methods: a training step each (train:<method>)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--classes", type=int, default=100)
    p.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"],
                   help="vpeft's arithmetic, one row each (PyTorch stays fp32: the baseline, run once per configuration)")
    p.add_argument("--recompute-mlp", action="store_true",
                   help="also run vpeft with the MLP recomputed in the backward (activation checkpointing), one more row per precision")
    p.add_argument("--hf-peft", action="store_true",
                   help="for --methods lora, also time timm + Hugging Face PEFT's LoRA as a second PyTorch baseline")
    p.add_argument("--vpeft", type=os.path.abspath, default=os.path.join(ROOT, ".build/release/vpeft"), help="the vpeft binary to time")
    args = p.parse_args()

    # One process per configuration on both sides, so each peak RSS is that configuration's own.
    configs = [(m, None) for m in args.modes] + [(f"train:{m}", m) for m in args.methods]
    # vpeft's variants: each precision, and each again with the MLP recomputed when asked.
    variants = [(p, r) for r in ([False, True] if args.recompute_mlp else [False]) for p in args.precision]
    def label(variant):
        return variant[0] + (" + recompute" if variant[1] else "")
    # PyTorch's baselines of a configuration: (name, timm_vit_speed.py method); timm alone for the plain modes.
    def baselines(method):
        if method is None:
            return [("timm", None)]
        return [("reference", method)] + ([("timm + HF peft", "peft_lora")] if args.hf_peft and method == "lora" else [])
    ours, theirs = {}, {}
    for mode, method in configs:
        for batch in args.batch:
            swift = [args.vpeft, "bench-speed", "--model", args.model, "--batch", str(batch),
                     "--threads", str(args.threads), "--iters", str(args.iters), "--warmup", "1", "--num-classes", str(args.classes)]
            swift += ["--methods", method] if method else ["--mode", mode]
            torch_cmd = [sys.executable, os.path.join(ROOT, "scripts/bench/timm_vit_speed.py"), "--model", args.model,
                         "--batch", str(batch), "--threads", str(args.threads), "--iters", str(args.iters), "--warmup", "1",
                         "--num-classes", str(args.classes), "--opt-step", "--modes", *([] if method else [mode])]
            # oneDNN's OpenMP threads must not spin between products while ours compute
            # (libgomp reads this at load time, so it is set for the process, not from inside).
            for variant in variants:
                precision, recompute = variant
                command = swift + ["--precision", precision] + (["--recompute-mlp"] if recompute else [])
                for r in lines_of_json(command, env={**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "passive")}):
                    ours[(r["mode"], r["batch"], variant)] = r
            for base, torch_method in baselines(method):
                for r in lines_of_json(torch_cmd + (["--methods", torch_method] if torch_method else [])):
                    theirs[(mode, r["batch"], base)] = r
                for variant in variants:
                    a, b = ours.get((mode, batch, variant)), theirs.get((mode, batch, base))
                    if a and b:
                        print(f"# {mode} batch {batch} {label(variant)}: vpeft {a['images_per_s']:.2f} img/s, "
                              f"PyTorch fp32 ({base}) {b['images_per_s']:.2f} img/s", file=sys.stderr, flush=True)

    print(f"| {args.model} | batch | PyTorch baseline | vpeft variant | vpeft img/s | PyTorch fp32 img/s | speed ratio | vpeft peak RSS MB | PyTorch peak RSS MB | memory ratio | vpeft gemm share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    misses, both = [], {}
    for mode, method in configs:
        for batch in args.batch:
            for base, _ in baselines(method):
                # A miss or a hit against a second baseline names it.
                against = "" if base == baselines(method)[0][0] else f" vs {base}"
                for variant in variants:
                    precision = variant[0]
                    a, b = ours.get((mode, batch, variant)), theirs.get((mode, batch, base))
                    if not a or not b:
                        continue
                    speed, memory = a["images_per_s"] / b["images_per_s"], a["peak_rss_mb"] / b["peak_rss_mb"]
                    print(f"| {mode} | {batch} | {base} | {label(variant)} | {a['images_per_s']:.2f} | {b['images_per_s']:.2f} | {speed:.2f}x | "
                          f"{a['peak_rss_mb']} | {b['peak_rss_mb']} | {memory:.2f}x | {a.get('gemm_share', '')} |")
                    # The speed targets (docs/architecture.md, "Performance rules"; ViT-B/16, batch 32):
                    # PEFT steps ≥ 1.5x in fp32, ≥ 2.5x in bf16, peak memory ≤ 0.5x; full fine-tuning ≥ 1.2x.
                    if args.model == TARGET_MODEL and batch == 32 and (method in TARGET_METHODS or mode == "train_full"):
                        need = 1.2 if mode == "train_full" else (2.5 if precision == "bf16" else 1.5)
                        if speed < need:
                            misses.append(f"{mode} {label(variant)}{against}: speed {speed:.2f}x < {need}x")
                        if method in TARGET_METHODS and memory > 0.5:
                            misses.append(f"{mode} {label(variant)}{against}: memory {memory:.2f}x > 0.5x")
                        if method in TARGET_METHODS and speed >= need and memory <= 0.5:
                            both.setdefault(mode, []).append(label(variant) + against)
    first = next(iter(theirs.values()), {})
    hf = next((r for r in theirs.values() if "peft" in r), None)
    peft = f", peft {hf['peft']} (LoRA on the fused qkv: {hf['trainable_params']:,} parameters train)" if hf else ""
    print(f"\nvpeft precision {' / '.join(args.precision)} (PyTorch fp32){' (+ recompute: MLP recomputed in the backward)' if args.recompute_mlp else ''}, threads {args.threads}, iters {args.iters}, torch {first.get('torch', '?')}, "
          f"timm {first.get('timm', '?')}{peft}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"vpeft OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'passive')}, vpeft binary {os.path.relpath(args.vpeft, ROOT)}")
    if args.model != TARGET_MODEL:
        print(f"\nThe speed and memory targets are set for {TARGET_MODEL}; none checked for {args.model}.")
        return
    print("\nTargets missed (batch 32): " + ("; ".join(misses) if misses else "none"))
    print("Speed and memory targets met together (batch 32): " + ("; ".join(f"{m}: {', '.join(v)}" for m, v in both.items()) or "none"))


# The model and PEFT methods the speed and memory targets name.
TARGET_MODEL = "vit_base_patch16_224"
TARGET_METHODS = {"lora", "adapter", "vpt_deep", "ssf"}


if __name__ == "__main__":
    main()
