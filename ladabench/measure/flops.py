"""Parameter and MAC counts through fvcore, in the LadaGAN convention.

Convention (docs/paper.md §12, docs/attention.md §9): **MACs of matrix products only**, one fused
multiply-add = 1, for the inputs given (the paper's "FLOPs" column is one generator forward for
one image, so pass a batch of 1). Counted ops: ``linear``, ``addmm``, ``mm``, ``matmul``,
``bmm``, ``einsum``, convolutions and ``scaled_dot_product_attention``. Everything else (norms,
softmax, element-wise products, upsampling, bias adds) counts 0 and is listed, with its number
of calls, in ``FlopReport.unsupported``: nothing is dropped silently.

Deviations from fvcore's defaults, all through its public ``set_op_handle`` API:
- its norm / upsample / pooling / grid-sample handles are removed (they are not matrix
  products), so those ops appear in ``unsupported``;
- ``matmul``/``mm`` is exact under broadcasting (fvcore drops the batch of a 2-D first operand
  against a batched second one, docs/attention.md §9.3);
- ``einsum`` is exact (fvcore parses numpy's 4-significant-digit printout,
  docs/attention.md §9.3);
- ``scaled_dot_product_attention`` is charged ``prod(batch) · L · S · (E + Ev)`` (fvcore has no
  handle; counted as the dense math path, also when ``is_causal``).

Matrix products alone reproduce the published generator figures (0.7B and 4.3B, docs/paper.md
§12.3): 758,349,824 MACs for cifar10_32 / celeba_64 vs the derived 0.759 G (-0.09 %),
4,339,924,992 for ffhq_128 vs 4.341 G (-0.03 %). The remaining gap is the 2·N·C element-wise
multiplies per Ladaformer block that the derived figures include (docs/paper.md §12.4); they are
deliberately NOT added, so every variant is charged by the same rule (no op-specific extras).

Public API (stable; used by ``ladabench flops`` and the training summary):
    count_flops(model, inputs) -> FlopReport(macs, params, by_module, by_operator,
                                             unsupported, convention)
    count_params(module, trainable_only=True) -> int
    flop_analysis(model, inputs) -> fvcore FlopCountAnalysis configured as above
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any, Sequence

import warnings

import numpy as np
import torch
from torch import nn

with warnings.catch_warnings():
    # fvcore's focal_loss module calls torch.jit.script at import (deprecated in torch 2.14)
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import (
        addmm_flop_jit,
        bmm_flop_jit,
        conv_flop_jit,
        get_shape,
        linear_flop_jit,
    )

CONVENTION = (
    "MACs of matrix products only (linear, matmul, bmm, einsum, conv, SDPA); "
    "1 multiply-add = 1; norms, softmax and element-wise ops count 0 (listed in unsupported); "
    f"fvcore {version('fvcore')}"
)


def _matmul_macs(inputs: list, outputs: list) -> int:
    """``a @ b`` with numpy broadcasting: prod(batch) · n · k · m."""
    a, b = (list(get_shape(v)) for v in inputs[:2])
    a = [1] + a if len(a) == 1 else a
    b = b + [1] if len(b) == 1 else b
    batch = torch.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2]))
    return math.prod(batch) * a[-2] * a[-1] * b[-1]


def _einsum_macs(inputs: list, outputs: list) -> int:
    """Exact MACs of an einsum along numpy's optimal pairwise contraction path: each pairwise
    contraction costs the product of the sizes of all its indices."""
    equation = inputs[0].toIValue().replace(" ", "")
    shapes = [list(get_shape(v)) for v in inputs[1].node().inputs()]
    lhs, out = equation.split("->") if "->" in equation else (equation, None)
    terms = lhs.split(",")
    if "." in equation:
        raise NotImplementedError(f"einsum with '...' is not supported by the counter: {equation}")
    sizes = {c: n for term, shape in zip(terms, shapes) for c, n in zip(term, shape)}
    if out is None:  # implicit output: indices that appear once, sorted
        out = "".join(sorted(c for c in sizes if lhs.count(c) == 1))
    operands = [np.empty(s, dtype=np.int8) for s in shapes]
    path = np.einsum_path(equation, *operands, optimize="optimal")[0][1:]
    total = 0
    for pair in path:
        picked = [terms[i] for i in pair]
        terms = [t for i, t in enumerate(terms) if i not in pair]
        used = set("".join(picked))
        if len(picked) > 1:
            total += math.prod(sizes[c] for c in used)
        keep = set("".join(terms)) | set(out)
        terms.append("".join(c for c in sorted(used) if c in keep))
    return total


def _sdpa_macs(inputs: list, outputs: list) -> int:
    """SDPA ``(…, L, E) x (…, S, E) x (…, S, Ev)``: Q Kᵀ and A V as the math path computes."""
    q, k, v = (list(get_shape(t)) for t in inputs[:3])
    return math.prod(q[:-2]) * q[-2] * k[-2] * (q[-1] + v[-1])


_HANDLES = {
    # fvcore's own handles, exact for these matrix products
    "aten::addmm": addmm_flop_jit,
    "aten::bmm": bmm_flop_jit,
    "aten::_convolution": conv_flop_jit,
    "aten::linear": linear_flop_jit,
    "aten::matmul": _matmul_macs,
    "aten::mm": _matmul_macs,
    "aten::einsum": _einsum_macs,
    "aten::scaled_dot_product_attention": _sdpa_macs,
}


@dataclass(frozen=True)
class FlopReport:
    """One forward's cost.

    Attributes:
        macs: total MACs (convention above) for the inputs given.
        params: trainable parameters of the model.
        by_module: MACs per submodule name (``""`` = the whole model), every module listed.
        by_operator: MACs per counted op (``linear``, ``matmul``, ...).
        unsupported: op name -> number of calls that counted 0 (not matrix products).
        convention: what ``macs`` means (recorded with every figure).
    """

    macs: int
    params: int
    by_module: dict[str, int]
    by_operator: dict[str, int]
    unsupported: dict[str, int]
    convention: str = CONVENTION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def flop_analysis(
    model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]
) -> FlopCountAnalysis:
    """An fvcore ``FlopCountAnalysis`` with the handles of this module (see module docstring)."""
    inputs = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
    analysis = FlopCountAnalysis(model, inputs).clear_op_handles().set_op_handle(**_HANDLES)
    # the unsupported ops are returned in the report instead of logged
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)


def count_params(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of parameters (shared tensors once); buffers (e.g. BN statistics) excluded."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, inputs: torch.Tensor | Sequence[torch.Tensor]) -> FlopReport:
    """Trace one forward of ``model(*inputs)`` in eval mode without gradients and count it.

    The model's train/eval mode is restored afterwards (eval mode keeps BatchNorm statistics
    untouched during the trace). Args: inputs: a tensor or a tuple of positional inputs.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            analysis = flop_analysis(model, inputs)
            total = analysis.total()
            by_module = analysis.by_module()
            by_operator = analysis.by_operator()
            unsupported = analysis.unsupported_ops()
    finally:
        model.train(was_training)
    return FlopReport(
        macs=int(total),
        params=count_params(model),
        by_module={name: int(v) for name, v in sorted(by_module.items())},
        by_operator={name: int(v) for name, v in sorted(by_operator.items())},
        unsupported=dict(sorted(unsupported.items())),
    )
