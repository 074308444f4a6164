import pytest

from ladabench.config import RunConfig, apply_overrides, load_run_config
from ladabench.core.errors import ConfigError, ConfigErrors


def write(tmp_path, text):
    p = tmp_path / "run.yaml"
    p.write_text(text)
    return p


def test_defaults_are_the_released_cifar10_config():
    cfg = RunConfig()
    assert cfg.train.batch_size == 128
    assert cfg.train.r1_weight == 1e-4 and cfg.train.adam_eps == 1e-7
    assert cfg.train.betas == (0.5, 0.99) and cfg.train.ema_decay == 0.999
    assert cfg.model.g_mlp_residual is False


def test_hash_ignores_machine_keys_but_not_experiment_keys():
    base = RunConfig()
    moved = RunConfig.model_validate(
        {"name": "other", "data": {"root": "/elsewhere"}, "train": {"device": "cuda"}}
    )
    changed = RunConfig.model_validate({"train": {"seed": 1}})
    assert base.config_hash() == moved.config_hash()
    assert base.config_hash() != changed.config_hash()


def test_keys_added_later_keep_the_hashes_of_older_configs_at_their_defaults():
    # the default config's hash from before train.sync_batchnorm and train.rank_streams existed
    assert RunConfig().config_hash() == "3eedd5ed1806"
    explicit = RunConfig.model_validate({"train": {"sync_batchnorm": True, "rank_streams": "own"}})
    assert explicit.config_hash() == "3eedd5ed1806"
    hashes = {RunConfig.model_validate({"train": t}).config_hash()
              for t in ({"sync_batchnorm": False}, {"rank_streams": "sliced"})}
    assert len(hashes) == 2 and "3eedd5ed1806" not in hashes


def test_unknown_key_names_file_path_and_suggestion(tmp_path):
    p = write(tmp_path, "train:\n  batch_sise: 64\n")
    with pytest.raises(ConfigErrors) as e:
        load_run_config(p)
    (problem,) = e.value.problems
    line = str(problem)
    assert line.startswith(f"{p}: train.batch_sise: unknown key")
    assert "did you mean 'batch_size'" in line


def test_wrong_type_and_range_are_each_reported(tmp_path):
    p = write(tmp_path, "train:\n  batch_size: many\n  ema_decay: 1.5\n")
    with pytest.raises(ConfigErrors) as e:
        load_run_config(p)
    keys = [p.key for p in e.value.problems]
    assert keys == ["train.batch_size", "train.ema_decay"]


def test_overrides_are_typed_yaml(tmp_path):
    p = write(tmp_path, "name: x\n")
    cfg = load_run_config(p, ["train.r1_weight=1e-3", "model.g_conv=false", "train.betas=[0.0, 0.9]"])
    assert cfg.train.r1_weight == 1e-3 and cfg.model.g_conv is False
    assert cfg.train.betas == (0.0, 0.9)


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="expected key.path=value"):
        apply_overrides({}, ["train.seed"])


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_run_config(tmp_path / "nope.yaml")
    p = write(tmp_path, "train: [1, 2\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_run_config(p)


@pytest.mark.parametrize("text, key", [
    ("train:\n  batch_size: '64'\n", "train.batch_size"),     # a quoted number is a string
    ("train:\n  bcr: 'yes'\n", "train.bcr"),                  # a quoted 'yes' is not true
    ("train:\n  images: 1000.0\n", "train.images"),           # an integer field takes no float
    ("eval:\n  real_split: validation\n", "eval.real_split"),  # splits the data sets know
])
def test_values_are_not_coerced_across_types(tmp_path, text, key):
    with pytest.raises(ConfigErrors) as e:
        load_run_config(write(tmp_path, text))
    assert [p.key for p in e.value.problems] == [key]


def test_yaml_numbers_and_lists_read_as_the_schema_types(tmp_path):
    cfg = load_run_config(write(tmp_path, "train:\n  g_lr: 1e-4\n  betas: [0.0, 0.9]\n  "
                                          "r1_weight: 0\n"), ["train.d_lr=3E-4"])
    assert (cfg.train.g_lr, cfg.train.d_lr, cfg.train.betas) == (1e-4, 3e-4, (0.0, 0.9))
    assert cfg.train.r1_weight == 0.0 and isinstance(cfg.train.r1_weight, float)
    # a config written by the trainer (lists, comma strings) reads back to the same config
    assert RunConfig.model_validate(cfg.to_dict()) == cfg


@pytest.mark.parametrize("text, key", [
    ("train:\n  g_lr: .inf\n", "train.g_lr"),
    ("train:\n  betas: [0.5, .nan]\n", "train.betas.1"),
    ("train:\n  betas: [0.5, 1.0]\n", "train.betas.1"),     # beta2 must stay below 1
    ("train:\n  batch_size: 10000000\n", "train.batch_size"),
    ("name: ../../escaped_run\n", "name"),                   # a run folder is one component
    ("name: ..\n", "name"),
    ("suite: .hidden\n", "suite"),
    ("train:\n  seed: -1\n", "train.seed"),                # numpy seeds are 0 .. 2**32 - 1
    ("train:\n  seed: 4294967296\n", "train.seed"),
    ("data:\n  subset_seed: -3\n", "data.subset_seed"),
])
def test_non_finite_out_of_range_and_path_like_values_are_refused(tmp_path, text, key):
    with pytest.raises(ConfigErrors) as e:
        load_run_config(write(tmp_path, text))
    assert [p.key for p in e.value.problems] == [key]


def test_a_bad_set_value_names_the_key():
    with pytest.raises(ConfigError, match=r"^--set: train\.images: not a YAML value"):
        apply_overrides({}, ["train.images=[1, 2"])


def test_diffaug_is_a_list_of_known_policies_written_as_the_reference_string():
    from typing import get_args

    from ladabench.config.train import DiffAugPolicy
    from ladabench.train.diffaug import POLICIES

    as_list = RunConfig.model_validate({"name": "x", "train": {"diffaug": ["color", "cutout"]}})
    as_text = RunConfig.model_validate({"name": "x", "train": {"diffaug": "color, cutout"}})
    assert as_list.train.diffaug == as_text.train.diffaug == ("color", "cutout")
    assert as_list.to_dict()["train"]["diffaug"] == "color,cutout"  # config.yaml keeps its form
    assert as_list.config_hash() == as_text.config_hash()
    none = RunConfig.model_validate({"name": "x", "train": {"diffaug": []}})
    assert none.train.diffaug == () and none.to_dict()["train"]["diffaug"] == ""
    assert set(get_args(DiffAugPolicy)) == set(POLICIES)  # the schema knows what is implemented


def test_an_iteration_schedule_replaces_the_image_schedule_and_both_are_refused(tmp_path):
    cfg = load_run_config(write(tmp_path, "train:\n  batch_size: 128\neval:\n  every_iterations: 500\n"))
    assert cfg.eval.every_images == 0 and cfg.eval.period_images(cfg.train.batch_size) == 64_000
    assert RunConfig().eval.period_images(128) == 2_560_000
    p = write(tmp_path, "eval:\n  every_iterations: 500\n  every_images: 64000\n")
    with pytest.raises(ConfigErrors) as e:
        load_run_config(p)
    (problem,) = e.value.problems
    assert problem.key == "eval" and "exclusive" in str(problem)
    stored = load_run_config(write(tmp_path, "eval:\n  every_iterations: 500\n  every_images: 0\n"))
    assert stored.eval == cfg.eval  # a stored config (both keys written) reads back the same


def test_ema_options_default_to_averaged_buffers_and_a_copied_start(tmp_path):
    assert (RunConfig().train.ema_buffers, RunConfig().train.ema_start) == ("average", "copy")
    with pytest.raises(ConfigErrors) as e:
        load_run_config(write(tmp_path, "train:\n  ema_start: random\n"))
    assert [p.key for p in e.value.problems] == ["train.ema_start"]
