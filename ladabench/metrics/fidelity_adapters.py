"""ladabench's one door to torch-fidelity: the digit CNN registered as its feature extractor,
generated images as its input, and its result keys mapped to ladabench's names.

Importing torch-fidelity loads torchvision and ``torch._dynamo`` (≈ 2.5 s on a laptop CPU), so
:mod:`ladabench.metrics.fidelity` imports this module only when it computes metrics: config checks,
``--dry-run`` and one-line pre-flight errors do not pay for it.
"""
from __future__ import annotations

import torch
import torch_fidelity
from torch import nn
from torch.utils.data import Dataset

from ladabench.metrics import digits_cnn

#: torch-fidelity's result keys → ladabench's value names (``evaluation`` reads these)
RESULT_NAMES = {
    torch_fidelity.KEY_METRIC_FID: "fid",
    torch_fidelity.KEY_METRIC_KID_MEAN: "kid",
    torch_fidelity.KEY_METRIC_KID_STD: "kid_std",
    torch_fidelity.KEY_METRIC_ISC_MEAN: "is",
    torch_fidelity.KEY_METRIC_ISC_STD: "is_std",
    torch_fidelity.KEY_METRIC_PRECISION: "precision",
    torch_fidelity.KEY_METRIC_RECALL: "recall",
}


class DigitsFeatureExtractor(torch_fidelity.FeatureExtractorBase):
    """torch-fidelity extractor ``digits-cnn``: uint8 ``(B, 3, H, W)`` → penultimate features
    ``(B, 128)`` (and logits ``(B, 10)``). Weights: ``feature_extractor_weights_path`` or the
    shipped file."""

    def __init__(self, name: str, features_list: list[str], feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.net, _ = digits_cnn.load_digits_net(feature_extractor_weights_path)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return digits_cnn.FEATURES

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return digits_cnn.FEATURE_LAYER

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        size = digits_cnn.INPUT_SIZE
        return torch.zeros(1, 3, size, size, dtype=torch.uint8)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"{digits_cnn.NAME}: expected uint8 (B, 3, H, W), got {x.dtype} "
                             f"{tuple(x.shape)}")
        feats, logits = self.net(digits_cnn.to_grey(x))
        out = {"128": feats, "logits": logits}
        return tuple(out[name] for name in self.features_list)


torch_fidelity.register_feature_extractor(digits_cnn.NAME, DigitsFeatureExtractor)


def fake_input(fakes: nn.Module | Dataset, noise_dim: int, n_gen: int) -> dict:
    """torch-fidelity's ``input1`` options: a module ``z (B, noise_dim)`` → uint8 ``(B, 3, R, R)``
    fed ``n_gen`` normal noise vectors (its train/eval mode left to the caller), or a data set of
    uint8 images."""
    if isinstance(fakes, nn.Module):
        model = torch_fidelity.GenerativeModelModuleWrapper(fakes, noise_dim, "normal", 0, make_eval=False)
        return {"input1": model, "input1_model_num_samples": n_gen}
    return {"input1": fakes}


def calculate_metrics(**kwargs) -> dict[str, float]:
    """``torch_fidelity.calculate_metrics(**kwargs)``: the values :data:`RESULT_NAMES` names, by
    ladabench's names (others, such as the F-score beside precision and recall, are dropped)."""
    result = torch_fidelity.calculate_metrics(**kwargs)
    return {name: result[key] for key, name in RESULT_NAMES.items() if key in result}
