"""``digits-cnn``: an offline, non-standard FID/KID extractor and the Stacked-MNIST classifier.

A small CNN trained once on the bundled MNIST train part (``load_mnist5k("train")``, 4,000
digits padded to 32×32) by :mod:`ladabench.metrics.digits_cnn_train`, held-out accuracy checked
on the other 1,000. Its weights ship inside the package (``weights/digits_cnn.npz``, float16)
and are pinned by :data:`WEIGHTS_SHA256`: every machine extracts features with the same bytes,
so offline FID/KID of the same images agree between machines to float rounding (a retrained
file would differ per CPU, since training amplifies the kernels' rounding differences).
The file is only ever read; a file whose bytes do not match the pin is an error, never rebuilt.
Registered with torch-fidelity as ``digits-cnn`` (:mod:`ladabench.metrics.fidelity_adapters`), so
FID/KID run through the same ``calculate_metrics`` path as Inception; its values are stamped
``standard: false``.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ladabench.core.errors import DataError

NAME = "digits-cnn"
FEATURES = ("128", "logits")
FEATURE_LAYER = "128"
#: the 10-class logits: the Inception Score's classifier offline
LOGITS_LAYER = "logits"
INPUT_SIZE = 32
#: the shipped weights (package data) and the sha256 of their bytes
WEIGHTS_FILE = Path(__file__).with_name("weights") / "digits_cnn.npz"
WEIGHTS_SHA256 = "a66fd5ab8e1ab00271d5f7ab10cad948c6a1073e5d7dd2ab75c0132cd483a6db"
MIN_TEST_ACCURACY = 0.97


class DigitsNet(nn.Module):
    """Grey digits ``(B, 1, 32, 32)`` in [-1, 1] → (features ``(B, 128)``, logits ``(B, 10)``)."""

    def __init__(self) -> None:
        super().__init__()
        chans = (1, 16, 32, 64)
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.convs = nn.Sequential(*layers)  # (B, 64, 4, 4)
        self.fc = nn.Linear(64 * 4 * 4, 128)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = F.relu(self.fc(self.convs(x).flatten(1)))
        return feats, self.head(feats)


def to_grey(x: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` → float ``(B, 1, 32, 32)`` in [-1, 1] (channel mean, bilinear resize)."""
    x = x.float().mean(dim=1, keepdim=True) / 127.5 - 1.0
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False,
                          antialias=True)
    return x


def mnist_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(grey float ``(n, 1, 32, 32)`` in [-1, 1], labels ``(n,)``): the digits data set's pixels."""
    from ladabench.data.digits import load_mnist5k

    images, labels = load_mnist5k(split)
    padded = F.pad(images, (2, 2, 2, 2))[:, None]  # (n, 1, 32, 32), as the digits data set
    return padded.float() / 127.5 - 1.0, labels


@torch.no_grad()
def held_out_accuracy(net: DigitsNet) -> float:
    """Top-1 accuracy on the 1,000 held-out digits (``load_mnist5k("test")``)."""
    x, y = mnist_split("test")
    return (net(x)[1].argmax(dim=1) == y).float().mean().item()


def weights_path() -> Path:
    """The shipped weights file, after checking its bytes against :data:`WEIGHTS_SHA256`."""
    from ladabench.data.base import file_sha256

    if not WEIGHTS_FILE.is_file():
        raise DataError(f"{WEIGHTS_FILE}: the digit classifier's weights are missing from the "
                        "installed package; reinstall ladabench (make venv)")
    got = file_sha256(WEIGHTS_FILE)
    if got != WEIGHTS_SHA256:
        raise DataError(
            f"{WEIGHTS_FILE}: sha256 {got} != pinned {WEIGHTS_SHA256}; the file was changed: "
            "restore it (git checkout -- ladabench/metrics/weights/digits_cnn.npz, or reinstall "
            "ladabench); retrained weights are for auditing, never for evaluation")
    return WEIGHTS_FILE


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(float32 state dict, metadata) of a weights file written by ``digits_cnn_train``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            state = {k[len("state/"):]: torch.from_numpy(npz[k].astype(np.float32))
                     for k in npz.files if k.startswith("state/")}
            meta = json.loads(str(npz["meta"]))
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{path}: not a digits-cnn weights file ({type(e).__name__}: {e})") from None
    return state, meta


def load_digits_net(path: str | Path | None = None) -> tuple[DigitsNet, dict]:
    """(eval-mode net, metadata: recipe, held-out accuracy) from ``path`` (default: the
    shipped, checked file; another path is an audit retrain, loaded as it is)."""
    shipped = path is None or Path(path).resolve() == WEIGHTS_FILE.resolve()
    state, meta = read_weights(weights_path() if shipped else path)
    net = DigitsNet()
    net.load_state_dict(state)
    net.eval().requires_grad_(False)
    return net, meta


@functools.lru_cache(maxsize=1)
def default_classifier() -> DigitsNet:
    """The shipped classifier, loaded once per process."""
    return load_digits_net()[0]


@torch.no_grad()
def classify(images: torch.Tensor, net: DigitsNet | None = None, batch_size: int = 500) -> torch.Tensor:
    """Digit labels ``(B,)`` of uint8 images ``(B, 3, H, W)`` (grey = channel mean)."""
    net = net or default_classifier()
    return torch.cat([net(to_grey(b))[1].argmax(dim=1) for b in images.split(batch_size)])
