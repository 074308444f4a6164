"""Helper process of test_digits_cnn: writes the shipped digits-cnn features of fixed images to
``<stem>.npy`` under this process's kernel settings and prints the capability torch chose."""
import json
import sys

import numpy as np
import torch

from ladabench.data.digits import load_mnist5k
from ladabench.metrics.fidelity_adapters import DigitsFeatureExtractor


def main(stem: str) -> None:
    digits = torch.nn.functional.pad(load_mnist5k("test")[0][:300], (2, 2, 2, 2))
    gen = torch.Generator().manual_seed(0)
    noise = torch.randint(0, 256, (300, 32, 32), generator=gen, dtype=torch.uint8)
    images = torch.cat([digits, noise])[:, None].expand(-1, 3, -1, -1).contiguous()  # (600, 3, 32, 32)
    ext = DigitsFeatureExtractor("digits-cnn", ["128"])
    with torch.no_grad():
        feats = torch.cat([ext(b)[0] for b in images.split(100)])
    np.save(f"{stem}.npy", feats.numpy())
    print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main(sys.argv[1])
