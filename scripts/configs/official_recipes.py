"""The `official` training recipe of each method: what its authors' released code trains with.

Read by make_method_configs.py. Every value names the file it was read from (repository, path,
line, commit). Line numbers count from 1 in the file as stored at that commit.

A recipe here is either
  - SameAs("vpetl", reason): the method has no separately released VTAB-1k / FGVC recipe, so the
    official recipe IS the V-PETL one (the file says so with `fallback: vpetl`), or
  - Official(...): defaults (each with its source) and a per-dataset function returning the
    entry and the comment naming its source.
Methods whose V-PETL settings never ran (the seed repository's model files for SSF, FacT,
RepAdapter, NOAH, Hydra, GPS, … are renamed copies of VPT-shallow) are in VPETL_FALLBACK: their
`vpetl` recipe falls back to `official`.
"""
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class SameAs:
    target: str
    reason: str


@dataclass
class Official:
    # {key: (value, source)}; written under `defaults` with the source as a comment.
    defaults: dict
    # name -> (entry dict or None, comment); None = nothing beyond the defaults (comment says why).
    per_dataset: Callable
    sources: list = field(default_factory=list)
    notes: list = field(default_factory=list)


PLACEHOLDER = ("the seed repository (synbol/Parameter-Efficient-Transfer-Learning-Benchmark) ships this method's "
               "model file as a renamed copy of VPT-shallow, so its V-PETL settings never trained this method{}; "
               "its V-PETL numbers can only come from the authors' own recipe")
FACT_SEEN = (" (ImageClassification/models/vision_transformer_fact.py @531b40c defines only "
             "VisionTransformer_vptshallow with prompt_embeddings)")
NOT_STORED = " (reported by an independent review of that repository; not re-verified here)"

VPETL_FALLBACK = {m: PLACEHOLDER.format(FACT_SEEN if m.startswith("fact") else NOT_STORED)
                  for m in ("ssf", "fact_tt", "fact_tk", "rep_adapter", "noah", "hydra", "gps")}

NO_SEPARATE = ("no VTAB-1k recipe released by the method's authors apart from the V-PETL release "
               "(the V-PETL run scripts are this method's released vision recipe)")

# --------------------------------------------------------------------------------------------
# SSF: dongzelian/SSF train_scripts/vit/vtab/<task>/train_ssf.sh. Each script: line 3 the GPU
# count (global batch = --batch-size x nproc_per_node), line 5 batch/epochs, line 6 AdamW + wd,
# line 7 warmup, line 8 lr/min-lr, line 9 drop-path, "--smoothing 0", "--no-aug".
# --------------------------------------------------------------------------------------------
SSF_REPO = "dongzelian/SSF"
SSF = {  # task: (folder, commit, per-GPU batch, GPUs, epochs, wd, lr, drop_path)
    "cifar100": ("cifar_100", "06f45ce", 128, 1, 200, 5e-5, 5e-3, 0.0),
    "caltech101": ("caltech101", "06f45ce", 128, 1, 250, 5e-2, 1e-3, 0.1),
    "dtd": ("dtd", "28a70a6", 32, 2, 100, 5e-5, 5e-3, 0.0),
    "oxford_flowers102": ("flowers102", "28a70a6", 32, 2, 100, 5e-5, 5e-3, 0.0),
    "oxford_iiit_pet": ("pets", "06f45ce", 128, 1, 250, 5e-5, 5e-3, 0.0),
    "svhn": ("svhn", "06f45ce", 32, 1, 250, 5e-5, 1e-2, 0.0),
    "sun397": ("sun397", "06f45ce", 128, 1, 200, 5e-5, 5e-3, 0.0),
    "patch_camelyon": ("patch_camelyon", "28a70a6", 32, 2, 100, 5e-5, 5e-3, 0.0),
    "eurosat": ("eurosat", "28a70a6", 32, 2, 100, 5e-2, 3e-3, 0.2),
    "resisc45": ("resisc45", "06f45ce", 32, 1, 250, 5e-5, 2e-3, 0.1),
    "diabetic_retinopathy": ("diabetic_retinopathy", "28a70a6", 32, 2, 100, 5e-5, 5e-3, 0.2),
    "clevr_count": ("clevr_count", "28a70a6", 32, 2, 100, 5e-2, 2e-3, 0.1),
    "clevr_dist": ("clevr_dist", "28a70a6", 32, 2, 100, 5e-2, 5e-2, 0.1),
    "dmlab": ("dmlab", "28a70a6", 32, 2, 100, 5e-5, 5e-3, 0.1),
    "kitti": ("kitti", "06f45ce", 128, 1, 250, 5e-5, 1e-2, 0.0),
    "dsprites_loc": ("dsprites_loc", "28a70a6", 32, 2, 100, 5e-5, 1e-2, 0.0),
    "dsprites_ori": ("dsprites_ori", "06f45ce", 32, 1, 250, 5e-5, 5e-3, 0.2),
    "smallnorb_azi": ("smallnorb_azi", "06f45ce", 128, 1, 200, 5e-5, 2e-2, 0.1),
    "smallnorb_ele": ("smallnorb_ele", "06f45ce", 128, 1, 250, 5e-2, 5e-3, 0.2),
}


def ssf_entry(name, vpetl_entry):
    if name not in SSF:
        entry = dict(vpetl_entry)
        return entry, "no SSF FGVC script read: the V-PETL table's lr/wd with SSF's optimiser (defaults)"
    folder, commit, batch, gpus, epochs, wd, lr, dp = SSF[name]
    entry = {"lr": lr, "weight_decay": wd, "label_smoothing": 0.0, "train_augmentation": False,
             "batch_size": batch * gpus, "epochs": epochs, "drop_path": dp}
    return entry, (f"{SSF_REPO} train_scripts/vit/vtab/{folder}/train_ssf.sh @{commit} lines 3-9 "
                   f"(--batch-size {batch} x {gpus} GPU{'s' if gpus > 1 else ''}, --smoothing 0, --no-aug)")


SSF_SCRIPT = f"{SSF_REPO} train_scripts/vit/vtab/*/train_ssf.sh (e.g. cifar_100 @06f45ce)"
SSF_OFFICIAL = Official(
    defaults={
        "optimizer": ("adamw", f"{SSF_SCRIPT} line 6: --opt adamw"),
        "decay_all": (False, f"{SSF_REPO} optim_factory.py @bba818a line 51 (param_groups_weight_decay: no decay "
                              "for ndim <= 1 or .bias; create_optimizer passes filter_bias_and_bn=True): every SSF "
                              "scale and shift is 1-D, so only the head's weight decays"),
        "warmup_epochs": (10, f"{SSF_SCRIPT} line 7: --warmup-epochs 10"),
        "warmup_lr": (1e-7, f"{SSF_SCRIPT} line 7: --warmup-lr 1e-7"),
        "min_lr": (1e-8, f"{SSF_SCRIPT} line 8: --min-lr 1e-8"),
        "schedule_per": ("epoch", "timm train.py steps the cosine scheduler after each epoch"),
    },
    per_dataset=ssf_entry,
    sources=[f"per task: {SSF_SCRIPT} (batch, epochs, lr, wd, drop path; --smoothing 0 --no-aug --direct-resize)",
             f"parameter groups: {SSF_REPO} optim_factory.py @bba818a line 51"],
    notes=["SSF trains with --amp (mixed precision); runs here use `precision` as set (fp32 by default).",
           "The scripts' global batch is --batch-size x nproc_per_node (2 GPUs on the 32-batch tasks)."])

# --------------------------------------------------------------------------------------------
# Hydra: extremebird/Hydra @b8f5a11. vtab1k/scripts/train_hydra.sh line 5: dim=2 for every task
# (lr/wd/dropout/bsize -1 and scale 0 = read from configs/hydra_both/<task>.yaml, lines 3-7).
# vtab1k/train.py: AdamW over every trainable tensor (one group), CosineLRScheduler(t_initial=500,
# warmup_t=10, lr_min=1e-5, warmup_lr_init=1e-6) stepped per epoch, 100 epochs, drop_path 0.1,
# plain cross-entropy.
# --------------------------------------------------------------------------------------------
HYDRA_REPO = "extremebird/Hydra vtab1k"
HYDRA = {  # task: (config name, lr, wd, scale, dropout, batch)
    "cifar100": ("cifar", 5e-4, 1e-4, 0.1, 0.2, 16), "caltech101": ("caltech101", 1e-3, 1e-4, 4.0, 0.1, 32),
    "dtd": ("dtd", 1e-3, 1e-4, 0.1, 0.2, 32), "oxford_flowers102": ("oxford_flowers102", 5e-3, 1e-4, 0.1, 0.0, 64),
    "oxford_iiit_pet": ("oxford_iiit_pet", 1e-3, 1e-4, 0.1, 0.0, 32), "svhn": ("svhn", 1e-3, 1e-4, 3.0, 0.0, 16),
    "sun397": ("sun397", 1e-3, 1e-4, 0.1, 0.2, 64), "patch_camelyon": ("patch_camelyon", 5e-3, 1e-4, 0.1, 0.2, 64),
    "eurosat": ("eurosat", 5e-4, 1e-4, 0.1, 0.2, 64), "resisc45": ("resisc45", 5e-3, 1e-4, 0.1, 0.2, 64),
    "diabetic_retinopathy": ("diabetic_retinopathy", 5e-4, 1e-4, 4.5, 0.2, 64),
    "clevr_count": ("clevr_count", 5e-4, 1e-4, 1.5, 0.2, 64), "clevr_dist": ("clevr_dist", 5e-4, 1e-4, 0.1, 0.0, 16),
    "dmlab": ("dmlab", 1e-3, 1e-4, 4.5, 0.2, 64), "kitti": ("kitti", 5e-4, 1e-4, 4.5, 0.2, 64),
    "dsprites_loc": ("dsprites_loc", 1e-3, 1e-4, 4.5, 0.2, 16), "dsprites_ori": ("dsprites_ori", 1e-3, 1e-4, 2.5, 0.2, 64),
    "smallnorb_azi": ("smallnorb_azi", 5e-3, 1e-5, 3.0, 0.2, 64), "smallnorb_ele": ("smallnorb_ele", 5e-4, 1e-4, 1.0, 0.2, 64),
}


def hydra_entry(name, vpetl_entry):
    if name not in HYDRA:
        return dict(vpetl_entry), "Hydra ships no FGVC configs: the V-PETL table's lr/wd, rank 2, cifar's scale/dropout"
    cfg, lr, wd, scale, dropout, batch = HYDRA[name]
    entry = {"lr": lr, "weight_decay": wd, "label_smoothing": 0.0, "train_augmentation": False, "batch_size": batch,
             "method_options": {"scale": scale, "dropout": dropout}}
    return entry, f"{HYDRA_REPO}/configs/hydra_both/{cfg}.yaml @b8f5a11 lines 3-7"


HYDRA_OFFICIAL = Official(
    defaults={
        "method_options": ({"rank": 2, "scale": 0.1, "dropout": 0.2},
                           f"rank: {HYDRA_REPO}/scripts/train_hydra.sh @b8f5a11 line 5 (dim=2, every task); "
                           "scale/dropout: configs/hydra_both/cifar.yaml lines 5-6 (overridden per task)"),
        "optimizer": ("adamw", f"{HYDRA_REPO}/train.py @b8f5a11: AdamW(trainable, lr, weight_decay)"),
        "decay_all": (True, f"{HYDRA_REPO}/train.py @b8f5a11: one parameter group, every trainable tensor decays"),
        "epochs": (100, f"{HYDRA_REPO}/train.py @b8f5a11: train(..., epoch=100)"),
        "warmup_epochs": (10, f"{HYDRA_REPO}/train.py @b8f5a11: CosineLRScheduler(warmup_t=10)"),
        "warmup_lr": (1e-6, f"{HYDRA_REPO}/train.py @b8f5a11: warmup_lr_init=1e-6"),
        "min_lr": (1e-5, f"{HYDRA_REPO}/train.py @b8f5a11: lr_min=1e-5"),
        "schedule_per": ("epoch", f"{HYDRA_REPO}/train.py @b8f5a11: scheduler.step(ep) after each epoch"),
        "drop_path": (0.1, f"{HYDRA_REPO}/train.py @b8f5a11: create_model(..., drop_path_rate=0.1)"),
    },
    per_dataset=hydra_entry,
    sources=[f"{HYDRA_REPO}/scripts/train_hydra.sh, train.py, hydra.py, configs/hydra_both/<task>.yaml @b8f5a11"],
    notes=["Deviation: Hydra's cosine has t_initial=500 over 100 epochs (the lr falls only to ~0.9x of its peak);",
           "this schedule decays over the run's `epochs` (100), to min_lr. No key here reproduces t_initial=500."])

# --------------------------------------------------------------------------------------------
# GPS: FightingFighting/GPS train_scripts/vit/vtab/<task>/train_gps.sh @41ac7da (dmlab, cifar_100,
# clevr_*, eurosat, resisc45, smallnorb_azi also stored @c52ea8a). Lines 2-3: bz, lr; the python
# line: --epochs 100, --opt adam --weight-decay 0, --warmup-lr 1e-7 --warmup-epochs 10,
# --min-lr 1e-8, --drop-path, --smoothing 0, --no-aug, --times_para k.
# --------------------------------------------------------------------------------------------
GPS_REPO = "FightingFighting/GPS"
GPS = {  # task: (folder, batch, lr, drop_path, k)
    "cifar100": ("cifar_100", 32, 1e-2, 0.0, 1), "caltech101": ("caltech101", 16, 2e-3, 0.0, 1),
    "dtd": ("dtd", 16, 1.5e-3, 0.0, 1), "oxford_flowers102": ("flowers102", 32, 8e-3, 0.0, 1),
    "oxford_iiit_pet": ("pets", 32, 8e-3, 0.0, 1), "svhn": ("svhn", 32, 5e-3, 0.0, 1),
    "sun397": ("sun397", 16, 1.5e-3, 0.0, 1), "patch_camelyon": ("patch_camelyon", 16, 1.5e-3, 0.0, 2),
    "eurosat": ("eurosat", 32, 1e-3, 0.0, 1), "resisc45": ("resisc45", 32, 1e-3, 0.0, 1),
    "diabetic_retinopathy": ("diabetic_retinopathy", 16, 1.5e-3, 0.2, 2), "clevr_count": ("clevr_count", 32, 1e-3, 0.0, 1),
    "clevr_dist": ("clevr_dist", 32, 8e-3, 0.0, 1), "dmlab": ("dmlab", 16, 1.5e-3, 0.1, 1),
    "kitti": ("kitti", 16, 2e-3, 0.0, 1), "dsprites_loc": ("dsprites_loc", 32, 7e-3, 0.0, 1),
    "dsprites_ori": ("dsprites_ori", 32, 5e-3, 0.2, 1), "smallnorb_azi": ("smallnorb_azi", 32, 8e-3, 0.0, 1),
    "smallnorb_ele": ("smallnorb_ele", 32, 8e-3, 0.0, 1),
}


def gps_entry(name, vpetl_entry):
    if name not in GPS:
        return dict(vpetl_entry), "no GPS FGVC script read: the V-PETL table's lr/wd with GPS's optimiser (defaults)"
    folder, batch, lr, dp, k = GPS[name]
    entry = {"lr": lr, "weight_decay": 0.0, "label_smoothing": 0.0, "train_augmentation": False, "batch_size": batch, "drop_path": dp}
    if k != 1:
        entry["method_options"] = {"k": k}
    return entry, f"{GPS_REPO} train_scripts/vit/vtab/{folder}/train_gps.sh @41ac7da lines 2-3 (bz, lr), --drop-path, --times_para {k}"


GPS_SCRIPT = f"{GPS_REPO} train_scripts/vit/vtab/*/train_gps.sh @41ac7da"
GPS_OFFICIAL = Official(
    defaults={
        "method_options": ({"k": 1}, f"{GPS_SCRIPT}: --times_para 1 (2 on patch_camelyon, diabetic_retinopathy)"),
        "optimizer": ("adamw", f"{GPS_SCRIPT}: --opt adam --weight-decay 0; with weight decay 0 Adam and AdamW take identical steps"),
        "weight_decay": (0.0, f"{GPS_SCRIPT}: --weight-decay 0"),
        "epochs": (100, f"{GPS_SCRIPT}: --epochs 100"),
        "warmup_epochs": (10, f"{GPS_SCRIPT}: --warmup-epochs 10"),
        "warmup_lr": (1e-7, f"{GPS_SCRIPT}: --warmup-lr 1e-7"),
        "min_lr": (1e-8, f"{GPS_SCRIPT}: --min-lr 1e-8"),
    },
    per_dataset=gps_entry,
    sources=[GPS_SCRIPT],
    notes=["GPS trains with --amp (mixed precision) and selects with --contrast-aug views; the selection here is",
           "docs/PEFT_TENSORS.md's (two augmented views per image)."])

# --------------------------------------------------------------------------------------------
# Official recipes that reuse per-dataset method options (FacT, RepAdapter, Convpass, NOAH):
# their released training uses one lr / wd for every task, no label smoothing, no augmentation.
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# SCT: its released model initialises the K×K map W trunc-normal(0.02) (not zero). Only a compiled
# vision_transformer_sct.pyc is in the stored copy of zhaohengyuan1/SCT @c1591b4, so the value is
# the recipe review's reading of the source; no per-task recipe is transcribed.
# --------------------------------------------------------------------------------------------
SCT_INIT_SOURCE = ("zhaohengyuan1/SCT vision_transformer_sct.py (W trunc-normal(0.02), as an independent review read it; "
                   "the stored copy @c1591b4 holds only its .pyc)")
SCT_OFFICIAL = Official(
    defaults={"method_options": ({"weight_init": "trunc_normal"}, SCT_INIT_SOURCE)},
    per_dataset=lambda name, vpetl_entry: (dict(vpetl_entry), "no per-task recipe released apart from the model: the V-PETL table's values"),
    sources=[SCT_INIT_SOURCE],
    notes=["Only the init differs from the vpetl recipe: SCT's per-task training settings are not transcribed."])


def uniform_official(lr, wd, source, options_fn, interpolation=None):
    """lr/wd/smoothing/augmentation the same on every VTAB task, options from options_fn(name)."""
    defaults = {"interpolation": (interpolation, source)} if interpolation else {}

    def per(name, vpetl_entry):
        options, note = options_fn(name)
        if name not in VTAB_NAMES:
            entry = dict(vpetl_entry)
            if options:
                entry["method_options"] = options
            return entry, f"no official FGVC recipe: the V-PETL table's lr/wd; {note}"
        entry = {"lr": lr, "weight_decay": wd, "label_smoothing": 0.0, "train_augmentation": False}
        if options:
            entry["method_options"] = options
        return entry, f"lr {lr:g} / wd {wd:g}: {source}; {note}"
    return Official(defaults=defaults, per_dataset=per, sources=[source])


VTAB_NAMES = set()  # filled by make_method_configs.py (its VTAB list)
