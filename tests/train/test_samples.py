"""Sample files of a run: the real-image grid beside the generated ones."""
import numpy as np
import torch
from PIL import Image

from ladabench.train.samples import write_real_grid


class Levels(torch.utils.data.Dataset):
    """10 class-sorted 4×4 images; image i is the constant grey level (i - 4.5) / 5."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return torch.full((3, 4, 4), (i - 4.5) / 5)


def test_real_grid_spreads_over_the_data_set_and_is_written_once(tmp_path):
    assert write_real_grid(Levels(), 4, tmp_path) == "real.png"
    grid = np.asarray(Image.open(tmp_path / "real.png"))  # 2×2 tiles of 4 px, padding 2
    tiles = [grid[2 + 6 * r, 2 + 6 * c, 0] for r in range(2) for c in range(2)]
    expected = [round(((i - 4.5) / 5 + 1) * 127.5) for i in (0, 3, 6, 9)]
    assert tiles == expected
    assert write_real_grid(Levels(), 4, tmp_path) is None
