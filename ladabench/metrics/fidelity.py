"""FID, KID, Inception Score and precision/recall through ``torch_fidelity.calculate_metrics``,
images fed in memory, features extracted once for all of them.

Generated images come straight from the generator (no PNG round trip): :class:`UInt8Images`
turns ``G(z)`` into uint8 like the reference's
``gen_batches`` (``((x + 1) · 127.5).clamp(0, 255)`` then a truncating cast), with
``z ~ N(0, I)`` drawn by torch-fidelity from ``RandomState(NOISE_SEED)``. Real images are the
data set's own uint8 pixels (``build_uint8_dataset``), features and FID statistics cached by
torch-fidelity under a content-hash name (:func:`ladabench.metrics.cache.real_stats_cache_name`).
torch-fidelity itself is loaded only to compute (:mod:`ladabench.metrics.fidelity_adapters`).
"""
from __future__ import annotations

import logging
from importlib.metadata import version
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from ladabench.data.build import build_uint8_dataset, dataset_fingerprint
from ladabench.config.data import DataConfig
from ladabench.metrics.cache import fidelity_cache_dir, real_stats_cache_name
from ladabench.metrics.extractors import Extractor

#: torch-fidelity's default ``rng_seed``: the noise of generated sets (same G → same images)
NOISE_SEED = 2020
#: seed of the real subset when ``n_real`` is smaller than the split
REAL_SEED = 0
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
#: Inception Score splits (torch-fidelity's and the original IS code's 10)
ISC_SPLITS = 10
#: improved precision/recall (Kynkäänniemi et al. 2019): k of the k-NN radii
PRC_NEIGHBORHOOD = 3
#: the metrics computed by torch-fidelity (ladabench's names are its ``calculate_metrics`` flags)
FIDELITY_METRICS = ("fid", "kid", "isc", "prc")
LIBRARY = f"torch-fidelity {version('torch-fidelity')}"
#: the arithmetic of every evaluation (generator and extractor), whatever training uses
PRECISION = "fp32-strict"

log = logging.getLogger(__name__)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Generator output ``(B, 3, R, R)`` in ~[-1, 1] → uint8, clipped and truncated as the reference."""
    return ((x + 1) * 127.5).clamp(0, 255).to(torch.uint8)


class UInt8Images(nn.Module):
    """``z (B, Z)`` → uint8 images ``(B, 3, R, R)`` of ``generator`` (on the generator's device)."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        device = next(self.generator.parameters()).device
        return to_uint8(self.generator(z.to(device)))


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` in eval mode and restore its previous mode afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@contextmanager
def strict_fp32(device: torch.device) -> Iterator[None]:
    """Evaluate in strict IEEE fp32 whatever training set: TF32 off for CUDA matmuls and cuDNN
    convolutions (``train.tf32``), autocast off (``train.amp``); the flags are restored after."""
    flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.autocast("cpu", enabled=False), (
                torch.autocast(device.type, enabled=False) if device.type != "cpu" else nullcontext()):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags


@dataclass(frozen=True)
class RealSet:
    """The real images of one protocol: uint8 ``(3, R, R)`` items, their count and cache name."""

    images: Dataset
    n: int
    fingerprint: str
    cache_name: str


def real_set(data_cfg: DataConfig, n_real: int, extractor: Extractor, weights_sha256: str,
             device_type: str) -> RealSet:
    """``min(n_real, split size)`` real images of ``data_cfg`` (drawn with REAL_SEED when fewer),
    their features cached per extractor device type (``cpu``, ``cuda``).

    The count actually used is what the protocol stamps (a 4,000-image split evaluated with
    ``n_real=50000`` is stamped ``n_real: 4000``).
    """
    full = build_uint8_dataset(data_cfg)
    n = min(n_real, len(full))
    picks = np.arange(n) if n == len(full) else np.sort(
        np.random.RandomState(REAL_SEED).choice(len(full), n, replace=False)
    )
    fingerprint = dataset_fingerprint(data_cfg, full.source)  # no second walk of a folder
    name = real_stats_cache_name(
        dataset=data_cfg.name,
        dataset_fingerprint=fingerprint,
        split=data_cfg.split,
        resolution=data_cfg.resolution,
        n_real=n,
        extractor=extractor.name,
        weights_sha256=weights_sha256,
        feature_layer=extractor.feature_layer,
        sample_seed=REAL_SEED,
        device_type=device_type,
        precision=PRECISION,
    )
    return RealSet(Subset(full, picks.tolist()), n, fingerprint, name)


def kid_subset_size(n_gen: int, n_real: int) -> int:
    return min(KID_SUBSET_SIZE, n_gen, n_real)


def kid_subsets_computed(n_gen: int, n_real: int) -> int:
    """Subsets torch-fidelity draws for the stamped :data:`KID_SUBSETS`: one when the subset
    size takes both whole sets, since each subset is then both sets in another order and the
    unbiased MMD² does not depend on the order: the 100 would give the same value (to float
    rounding, std ~0) at 100 times the cost (~4 CPU s per 500 vs 500 evaluation)."""
    size = kid_subset_size(n_gen, n_real)
    return 1 if size == n_gen and size == n_real else KID_SUBSETS


def fidelity_kwargs(
    extractor: Extractor, weights: Path, *, metrics: set[str], n_gen: int, n_real: int,
    batch_size: int, cuda: bool,
) -> dict:
    """The ``calculate_metrics`` options of every ladabench call (inputs excluded) computing
    ``metrics`` (names of :data:`FIDELITY_METRICS`)."""
    return dict(
        **{name: name in metrics for name in FIDELITY_METRICS},
        feature_extractor=extractor.name,
        feature_extractor_weights_path=str(weights),
        feature_layer_fid=extractor.feature_layer,
        feature_layer_kid=extractor.feature_layer,
        feature_layer_prc=extractor.feature_layer,
        feature_layer_isc=extractor.logits_layer,
        kid_subsets=kid_subsets_computed(n_gen, n_real),
        kid_subset_size=kid_subset_size(n_gen, n_real),
        isc_splits=ISC_SPLITS,
        prc_neighborhood=PRC_NEIGHBORHOOD,
        batch_size=batch_size,
        cuda=cuda,
        rng_seed=NOISE_SEED,
        save_cpu_ram=True,  # no DataLoader worker processes (2-core nodes; in-memory inputs)
        datasets_download=False,
        verbose=False,
    )


class ImageTensor(Dataset):
    """uint8 images ``(n, 3, R, R)`` as a data set of ``(3, R, R)`` items (torch-fidelity input)."""

    def __init__(self, images: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(
                f"expected uint8 (n, 3, R, R), got {images.dtype} {tuple(images.shape)}")
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


#: what is scored: a generator (``n_gen`` images from torch-fidelity's noise) or uint8 images
Fakes = nn.Module | Dataset


def compute_fidelity(
    fakes: Fakes, noise_dim: int, real: RealSet, *, n_gen: int, extractor: Extractor,
    weights: Path, device: torch.device, batch_size: int, metrics: set[str],
) -> dict[str, float]:
    """The values of ``metrics`` for ``n_gen`` images of ``fakes`` against ``real``, by
    ladabench's names (``fid``, ``kid``, ``kid_std``, ``is``, ``is_std``, ``precision``, ``recall``)."""
    from ladabench.metrics import fidelity_adapters  # torch-fidelity: loaded to compute only

    cache_root = fidelity_cache_dir()
    stat_file = cache_root / f"{real.cache_name}-{extractor.name}-features-{extractor.feature_layer}.pt"
    log.info("real features %s: %s", "cache hit" if stat_file.is_file() else "cache miss", real.cache_name)
    cuda = device.type == "cuda"
    kwargs = fidelity_kwargs(extractor, weights, metrics=metrics, n_gen=n_gen, n_real=real.n,
                             batch_size=batch_size, cuda=cuda)
    generated = isinstance(fakes, nn.Module)
    fake = fidelity_adapters.fake_input(UInt8Images(fakes) if generated else fakes, noise_dim, n_gen)
    mode = eval_mode(fakes) if generated else nullcontext()
    with mode, torch.cuda.device(device) if cuda else nullcontext():
        return fidelity_adapters.calculate_metrics(
            **fake,
            input2=real.images,
            input2_cache_name=real.cache_name,
            cache_root=str(cache_root),
            **kwargs,
        )
