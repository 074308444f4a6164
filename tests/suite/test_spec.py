"""Suite files: validation messages (file, key path, expectation; nothing written), grid
expansion and stable ids, --set/--smoke, and a dry run of every suite in suites/."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from ladabench.cli import main
from ladabench.config import RunConfig
from ladabench.launch import plan, run_suite
from ladabench.launch.status import describe
from ladabench.core.errors import ConfigError, ConfigErrors
from core.test_schema import ALIAS_BOMB
from ladabench.suite import load_suite, run_name
from ladabench.suite.bases import SMOKE, get_base

REPO = Path(__file__).resolve().parents[2]
SUITES = sorted((REPO / "suites").glob("*.yaml"))


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# (suite YAML, --set values, [substrings of ONE problem line after "FILE: "])
MALFORMED = {
    "unknown top-level key": ("base: digits\ngrdi: {}\n", [],
                              ["grdi: unknown key (did you mean 'grid'?)"]),
    "unknown base": ("base: cifar\n", [], ["base: unknown suite base 'cifar' (did you mean 'cifar10'?)"]),
    "missing base": ("grid: {train.seed: [0]}\n", [], ["base: required; available:", "cifar10"]),
    "unknown grid key": ("base: digits\ngrid: {model.g_atention: [lada]}\n", [],
                         ["grid.model.g_atention: unknown key 'g_atention' (did you mean 'g_attention'?)"]),
    "wrong grid type": ("base: digits\ngrid: {model.g_conv: [true, maybe]}\n", [],
                        ["grid.model.g_conv: Input should be a valid boolean", "'maybe'"]),
    "unknown attention": ("base: digits\ngrid: {model.g_attention: [lada, lade]}\n", [],
                          ["grid.model.g_attention:", "unknown attention 'lade' (did you mean 'lada'?)"]),
    "linformer k >= N": (
        "base: digits\noverrides: {model: {attention_options: {linformer: {k: 64}}}}\n"
        "grid: {model.g_attention: [linformer]}\n", [],
        ["grid.model.g_attention:", "64 tokens", "k must be an integer with 1 <= k < seq_len=64"]),
    "suite name that walks up": ("name: ..\nbase: digits\n", [], ["name: expected a folder name"]),
    "run name in overrides": ("base: digits\noverrides: {name: mine}\n", [],
                              ["overrides.name: set by the suite itself"]),
    "alias bomb": ("base: digits\n" + ALIAS_BOMB, [], ["refused: more than 100,000 values"]),
    "unknown attention option": (
        "base: digits\noverrides: {model: {attention_options: {lada: {k: 4}}}}\n", [],
        ["overrides.model.attention_options: attention 'lada': unknown option(s) k"]),
    "swin window not dividing the grid": (
        "base: digits\noverrides: {model: {attention_options: {swin: {window: 3}}}}\n"
        "grid: {model.g_attention: [swin]}\n", [],
        ["grid.model.g_attention:", "window 3 does not divide the 8x8 token grid"]),
    "preset/resolution mismatch": ("base: digits\noverrides: {data: {resolution: 64}}\n", [],
                                   ["overrides.data.resolution: preset 'cifar10_32' generates 32x32",
                                    "expected data.resolution 32, got 64"]),
    "fraction out of range": ("base: digits\ngrid: {data.fraction: [0.1, 1.5]}\n", [],
                              ["grid.data.fraction: Input should be less than or equal to 1", "1.5"]),
    "unknown override key": ("base: digits\noverrides: {train: {lr: 0.1}}\n", [],
                             ["overrides.train.lr: unknown key"]),
    "g_conv off impossible for the preset": (
        "base: ffhq128\ngrid: {model.g_conv: [false]}\n", [],
        ["grid.model.g_conv: false needs g_dim[i]/4 == g_dim[i+1]"]),
    "empty grid list": ("base: digits\ngrid: {train.seed: []}\n", [],
                        ["grid.train.seed: expected a non-empty list of values"]),
    "duplicate grid value": ("base: digits\ngrid: {train.seed: [0, 0]}\n", [],
                             ["grid.train.seed: value 0 is listed twice"]),
    "exclude key not in grid": (
        "base: digits\ngrid: {train.seed: [0, 1]}\nexclude: [{model.g_conv: false}]\n", [],
        ["exclude[0].model.g_conv: not a grid key; grid keys: train.seed"]),
    "exclude value not in grid": (
        "base: digits\ngrid: {train.seed: [0, 1]}\nexclude: [{train.seed: 7}]\n", [],
        ["exclude[0].train.seed: value 7 is not in the grid [0, 1]"]),
    "negative resources": ("base: digits\nresources: {gpus: -1}\n", [],
                           ["resources.gpus: Input should be greater than or equal to 0"]),
    "not one process per GPU": ("base: digits\nresources: {gpus: 4, tasks_per_node: 2}\n", [],
                                ["resources.tasks_per_node: expected 4 (one process per GPU: "
                                 "resources.gpus is 4 per node) or no value, got 2"]),
    "global batch not split evenly": (
        "base: digits\nresources: {nodes: 2, tasks_per_node: 3}\n", [],
        ["train.batch_size: expected a multiple of the world size 6 (resources: nodes 2 x 3 "
         "processes per node", "got 16"]),
    "training on cuda without a GPU": ("base: digits\noverrides: {train: {device: cuda}}\n", [],
                                       ["resources.gpus: expected >= 1: train.device is 'cuda' and "
                                        "a job sees only the GPUs it asks for (--set resources.gpus=1)"]),
    "--set no nodes": ("base: digits\n", ["resources.nodes=0"],
                       ["--set resources.nodes: Input should be greater than or equal to 1"]),
    "unknown data set": ("base: digits\noverrides: {data: {name: mnist}}\n", [],
                         ["overrides.data.name: unknown dataset 'mnist'", "available:"]),
    "unknown metric": ("base: digits\noverrides: {eval: {metrics: [fid, is]}}\n", [],
                       ["overrides.eval.metrics: unknown metric 'is'"]),
    "schedule shorter than a batch": ("base: digits\noverrides: {train: {images: 4}}\n", [],
                                      ["overrides.train.images: expected at least one batch",
                                       "got 4"]),
    "scaling suite with a grid": ("kind: scaling\ngrid: {train.seed: [0]}\n", [],
                                  ["grid: not used by a 'kind: scaling' suite"]),
    "unknown scaling option": ("kind: scaling\nscaling: {tokns: [64]}\n", [],
                               ["scaling.tokns: unknown key (did you mean 'tokens'?)"]),
    "unknown scaling variant": ("kind: scaling\nscaling: {variants: [lada, swim]}\n", [],
                                ["scaling.variants: unknown attention 'swim' (did you mean 'swin'?)"]),
    "--set on a scaling suite": ("kind: scaling\n", ["train.images=8"],
                                 ["--set train.images: a 'kind: scaling' suite takes only scaling.<option>"]),
    "--set bad resources": ("kind: scaling\n", ["resources.gpus=-1"],
                            ["--set resources.gpus: Input should be greater than or equal to 0"]),
    "scaling on cuda without a GPU": ("kind: scaling\n", ["scaling.device=cuda"],
                                      ["scaling.device: 'cuda' needs resources.gpus >= 1 "
                                       "(--set resources.gpus=1)"]),
    "bad suite name": ("name: my suite\nbase: digits\n", [],
                       ["name: expected a folder name of [A-Za-z0-9_.+=-] not starting with '.' or '-', got 'my suite'"]),
    "missing plugin file": ("base: digits\nplugins: [nowhere.py]\n", [],
                            ["plugins[0]: plugin file", "nowhere.py not found"]),
    "--set overlapping the grid": ("base: digits\ngrid: {model.g_attention: [lada, swin]}\n",
                                   ["model.g_attention=swin"],
                                   ["--set model.g_attention: overlaps the grid key"]),
    "--set unknown key": ("base: digits\n", ["train.imgs=10"],
                          ["--set train.imgs: unknown key 'imgs' (did you mean 'images'?)"]),
    "--set wrong type": ("base: digits\n", ["train.batch_size=big"],
                         ["--set train.batch_size: Input should be a valid integer", "'big'"]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_suite_is_rejected_with_file_key_and_expectation(tmp_path, case):
    text, sets, expected = MALFORMED[case]
    path = write(tmp_path, text)
    results = tmp_path / "results"
    with pytest.raises(ConfigError) as info:  # ConfigErrors, or one ConfigError for the file
        load_suite(path, sets=sets, results_root=results)
    lines = [str(p) for p in info.value.problems]
    matching = [line for line in lines if all(s in line for s in expected)]
    assert matching, f"no problem line contains {expected}; got {lines}"
    if not expected[0].startswith("--set"):
        assert matching[0].startswith(f"{path}: "), matching[0]
    assert not results.exists()


@pytest.mark.parametrize("root", ["/", "/etc", "/usr/../"])
def test_results_trees_never_go_into_system_folders(tmp_path, root):
    path = write(tmp_path, f"base: digits\nresults_root: {root}\n")
    with pytest.raises(ConfigErrors, match=r"results_root: .* resolves to the system folder"):
        load_suite(path)
    with pytest.raises(ConfigErrors, match=r"--results: .* resolves to the system folder"):
        load_suite(write(tmp_path, "base: digits\n"), results_root=root)


def test_all_problems_are_collected_in_one_pass(tmp_path):
    path = write(tmp_path, "base: digits\nresources: {cpus: 0}\noverrides: {train: {lr: 1}}\n"
                           "grid: {train.sed: [0]}\nexclude: [{model.g_conv: true}]\n")
    with pytest.raises(ConfigErrors) as info:
        load_suite(path)
    keys = [p.key for p in info.value.problems]
    assert keys == ["resources.cpus", "grid.train.sed", "exclude[0].model.g_conv", "overrides.train.lr"]


def test_cli_exit_code_2_and_nothing_written(tmp_path, capsys):
    path = write(tmp_path, "base: digits\ngrid: {model.g_attention: [lada, linformr]}\n")
    results = tmp_path / "results"
    code = main(["run", str(path), "--results", str(results)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}: grid.model.g_attention:" in err and "did you mean 'linformer'?" in err
    assert not results.exists()


@pytest.mark.parametrize("problem, expected", [
    (["--executor", "cluster"], "invalid choice: 'cluster'"),
])
def test_cli_rejects_unknown_executor(tmp_path, capsys, problem, expected):
    path = write(tmp_path, "base: digits\n")
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), *problem])
    assert info.value.code == 2
    assert expected in capsys.readouterr().err


def test_bad_profile_and_profile_without_slurm_are_rejected_before_writing(tmp_path):
    path = write(tmp_path, "base: digits\n")
    profile = write(tmp_path, "partiton: gpu\nmax_time_min: 0\n", "p.yaml")
    results = tmp_path / "results"
    with pytest.raises(ConfigErrors) as info:
        run_suite(path, "slurm", profile=profile, results_root=results, log=lambda s: None)
    assert sorted(map(str, info.value.problems)) == [
        f"{profile}: max_time_min: Input should be greater than 0 (got 0)",
        f"{profile}: partiton: unknown key (did you mean 'partition'?); allowed: partition, "
        "account, qos, constraint, max_time_min, array_parallelism, signal_delay_s, "
        "max_num_timeout, setup, additional, folder"]
    with pytest.raises(Exception, match="--profile: only used with --executor slurm"):
        run_suite(path, "local", profile=profile, results_root=results, log=lambda s: None)
    assert not results.exists()


def test_folder_data_set_needs_root_before_a_real_launch(tmp_path):
    path = write(tmp_path, "base: digits\noverrides: {data: {name: folder}}\n")
    results = tmp_path / "results"
    with pytest.raises(Exception, match="data.root: required for a real launch"):
        run_suite(path, "local", results_root=results, log=lambda s: None)
    assert not results.exists()


# ---------------------------------------------------------------- expansion and ids

GRID = """base: digits
grid:
  model.g_attention: [lada, fastformer, linformer, swin, dot_product]
  model.g_conv: [true, false]
  train.seed: [0, 1]
exclude:
  - {model.g_attention: swin, model.g_conv: false}
  - {model.g_attention: [linformer, dot_product], train.seed: 1}
"""


def test_grid_expands_product_minus_excludes_with_readable_unique_ids(tmp_path):
    suite = load_suite(write(tmp_path, GRID), results_root=tmp_path / "r")
    expected = [
        {"model.g_attention": a, "model.g_conv": c, "train.seed": s}
        for a, c, s in itertools.product(["lada", "fastformer", "linformer", "swin", "dot_product"],
                                         [True, False], [0, 1])
        if not (a == "swin" and not c) and not (a in ("linformer", "dot_product") and s == 1)
    ]
    assert len(suite.runs) == len(expected) == 14
    for run, point in zip(suite.runs, expected):
        cfg = run.config
        assert (cfg.model.g_attention, cfg.model.g_conv, cfg.train.seed) == tuple(point.values())
        assert run.run_id == f"{run_name('s', point)}-{cfg.config_hash()}"
        assert run.run_dir == tmp_path / "r" / "s" / run.run_id
        assert cfg.suite == "s"
    assert suite.runs[0].run_id.startswith("lada-g_conv-seed0-")
    assert suite.runs[2].run_id.startswith("lada-no_g_conv-seed0-")
    assert len({r.run_id for r in suite.runs}) == len(suite.runs)


def test_ids_are_stable_and_ignore_machine_keys(tmp_path):
    path = write(tmp_path, GRID)
    first = [r.run_id for r in load_suite(path).runs]
    assert [r.run_id for r in load_suite(path).runs] == first
    moved = [r.run_id for r in load_suite(path, sets=["data.root=/elsewhere", "train.device=cpu"]).runs]
    assert moved == first
    longer = [r.run_id for r in load_suite(path, sets=["train.images=2048"]).runs]
    assert [i.rsplit("-", 1)[0] for i in longer] == [i.rsplit("-", 1)[0] for i in first]
    assert not set(longer) & set(first)


def test_config_is_base_then_overrides_then_grid_then_set(tmp_path):
    path = write(tmp_path, "base: digits\noverrides: {train: {batch_size: 8, images: 64}}\n"
                           "grid: {train.seed: [3]}\n")
    (run,) = load_suite(path, sets=["train.images=128", "eval.n_gen=100"]).runs
    want = get_base("digits")
    want["train"].update(batch_size=8, images=128, seed=3)
    want["eval"]["n_gen"] = 100
    expected = RunConfig.model_validate({**want, "name": "seed3", "suite": "s"})
    assert run.config == expected


def test_smoke_scales_the_schedule_into_a_separate_suite(tmp_path):
    path = write(tmp_path, "base: cifar10\n")
    suite = load_suite(path, smoke=True, results_root=tmp_path)
    (run,) = suite.runs
    assert suite.name == "s_smoke" and suite.results_dir == tmp_path / "s_smoke"
    assert run.config.train.images == SMOKE["train"]["images"]
    assert run.config.eval.final_n_gen == SMOKE["eval"]["final_n_gen"]
    assert run.config.data.name == "cifar10"  # only the schedule changes


@pytest.mark.parametrize("resources, sets, expected", [
    ("{}", [], (1, 1, 1)),
    ("{gpus: 4}", [], (1, 4, 4)),  # one process per GPU unless said otherwise
    ("{gpus: 4}", ["resources.nodes=2"], (2, 4, 8)),
    ("{tasks_per_node: 2}", [], (1, 2, 2)),  # processes on a CPU (gloo)
])
def test_world_size_is_nodes_times_processes_and_leaves_run_ids_alone(tmp_path, resources, sets,
                                                                     expected):
    path = write(tmp_path, f"base: digits\ngrid: {{train.seed: [0, 1]}}\nresources: {resources}\n")
    suite = load_suite(path, sets=sets, results_root=tmp_path)
    res = suite.resources
    assert (res.nodes, res.processes_per_node, res.world_size) == expected
    plain = load_suite(write(tmp_path, "base: digits\ngrid: {train.seed: [0, 1]}\n", "p.yaml"),
                       results_root=tmp_path)
    assert [r.config.config_hash() for r in suite.runs] == [r.config.config_hash()
                                                           for r in plain.runs]


@pytest.mark.parametrize("resources, device, expected", [
    ("{nodes: 4, gpus: 8}", "auto", (0, 1, 2)),  # a CPU trial of the distributed path
    ("{nodes: 4, gpus: 8}", "cuda", (1, 1, 1)),  # one GPU: one process
    ("{tasks_per_node: 2}", "auto", (0, 1, 2)),
    ("{}", "auto", (0, 1, 1)),
])
def test_smoke_runs_on_one_node_with_at_most_two_processes(tmp_path, resources, device, expected):
    path = write(tmp_path, f"base: digits\nresources: {resources}\n"
                           f"overrides: {{train: {{device: {device}}}}}\n")
    res = load_suite(path, smoke=True, results_root=tmp_path).resources
    assert (res.gpus, res.nodes, res.world_size) == expected


# ---------------------------------------------------------------- plan, dry run, status

def _fake_summary(run, status, images_seen=0):
    run.run_dir.mkdir(parents=True)
    (run.run_dir / "summary.json").write_text(json.dumps(
        {"status": status, "images_seen": images_seen, "final": {}, "best": {}}))


def test_plan_skips_done_resumes_unfinished_and_force_restarts(tmp_path):
    from ladabench.launch import plan

    suite = load_suite(write(tmp_path, "base: digits\ngrid: {train.seed: [0, 1, 2, 3]}\n"),
                       results_root=tmp_path / "r")
    _fake_summary(suite.runs[0], "finished", 1024)
    _fake_summary(suite.runs[1], "interrupted", 256)
    _fake_summary(suite.runs[2], "diverged", 512)
    assert [(p.status, p.action) for p in plan(suite)] == [
        ("finished", "skip"), ("interrupted", "resume"), ("diverged", "skip"), ("new", "start")]
    assert [p.action for p in plan(suite, force=True)] == ["restart", "restart", "restart", "start"]
    assert [p.run.run_id for p in plan(suite, only="seed2")] == [suite.runs[2].run_id]
    assert [p.run.run_id for p in plan(suite, only="seed[01]-*")] == \
        [suite.runs[0].run_id, suite.runs[1].run_id]


def test_status_shows_every_run_of_a_suite(tmp_path, capsys):
    path = write(tmp_path, "base: digits\ngrid: {train.seed: [0, 1]}\n")
    suite = load_suite(path, results_root=tmp_path / "r")
    _fake_summary(suite.runs[0], "interrupted", 256)
    assert main(["status", str(path), "--results", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["RUN", "STATUS", "IMAGES", "WORLD_SIZE"]
    assert out[2].split() == [suite.runs[0].run_id, "interrupted", "256/1,024", "1"]
    assert out[3].split() == [suite.runs[1].run_id, "new", "0/1,024", "1"]
    assert main(["status", "s", "--results", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:2] == [suite.runs[0].run_id, "interrupted"]
    assert main(["status", str(tmp_path / "r" / "s")]) == 0  # the folder's path, as run prints it
    assert capsys.readouterr().out.splitlines()[2].split()[:2] == [suite.runs[0].run_id, "interrupted"]
    assert main(["status", str(suite.runs[0].run_dir)]) == 0  # one run directory (train --out)
    assert capsys.readouterr().out.splitlines()[2].split()[:3] == [
        suite.runs[0].run_dir.name, "interrupted", "256"]


def test_dry_run_prints_runs_and_slurm_parameters_and_writes_nothing(tmp_path):
    path = write(tmp_path, "base: digits\ngrid: {model.g_attention: [lada, swin]}\n"
                           "resources: {gpus: 2, cpus: 4, mem_gb: 16, time_min: 600}\n")
    profile = write(tmp_path, "partition: gpu\nmax_time_min: 240\naccount: proj\n", "p.yaml")
    lines: list[str] = []
    assert run_suite(path, "slurm", profile=profile, dry_run=True, results_root=tmp_path / "r",
                     log=lines.append) == 0
    text = lines[0]
    assert ("per run: world size 2 (nodes 1 x 2 processes), gpus 2 and mem 16 GB per node, "
            "cpus 4 per process, time 600 min") in text
    assert "timeout_min=240" in text and "gpus_per_node=2" in text
    assert "nodes=1, tasks_per_node=2" in text  # one process per GPU
    assert "slurm_partition=gpu" in text and "slurm_account=proj" in text
    for run in load_suite(path).runs:
        assert f"start   new     {run.run_id}" in text
    assert text.endswith("dry run: nothing launched, nothing written")
    assert not (tmp_path / "r").exists()


#: shipped suites whose data and weights ship with ladabench (the others need files fetched)
OFFLINE_SUITES = {"ci_regression", "quickstart", "scaling", "stacked_mnist"}
#: where the pre-flight reports data or weights files absent from this machine
FILE_KEYS = {"data.root", "eval.real_split", "eval.extractor"}


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_every_shipped_suite_passes_a_dry_run(tmp_path, path):
    suite = load_suite(path, results_root=tmp_path)
    lines: list[str] = []
    try:
        assert run_suite(path, dry_run=True, results_root=tmp_path, log=lines.append) == 0
    except ConfigErrors as e:  # only files this machine lacks (CIFAR-10, photos, Inception)
        assert path.stem not in OFFLINE_SUITES and {p.key for p in e.problems} <= FILE_KEYS, str(e)
        lines = [describe(suite, plan(suite), "local")]
    assert suite.runs or suite.spec.kind == "scaling"
    for run in suite.runs:
        assert run.run_id in lines[0]
    assert list(tmp_path.iterdir()) == []


PLUGIN = """
from pathlib import Path
Path(__file__).with_name("ran.txt").write_text("plugin code ran")
from ladabench.models.presets import PRESETS, get_preset
import dataclasses
PRESETS.register("my_preset")(lambda: dataclasses.replace(get_preset("cifar10_32")))
"""


def _plugin_suite(folder, plugin_ref="my_plugin.py"):
    folder.mkdir(parents=True, exist_ok=True)
    return write(folder, f"base: digits\nplugins: [{plugin_ref}]\n"
                         "grid: {model.preset: [my_preset]}\n")


def test_dry_run_and_status_never_run_plugin_code(tmp_path, capsys):
    suite_dir = tmp_path / "suite"
    path = _plugin_suite(suite_dir)
    (suite_dir / "my_plugin.py").write_text(PLUGIN)
    results = tmp_path / "results"
    assert main(["run", str(path), "--dry-run", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert f"plugin that a launch would run: {suite_dir.resolve() / 'my_plugin.py'}" in out
    assert "not checked: preset, attention, data set and metric names" in out
    assert main(["status", str(path), "--results", str(results)]) == 0
    assert not (suite_dir / "ran.txt").exists() and not results.exists()


def test_plugin_files_outside_the_suite_folder_need_to_be_allowed(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "my_plugin.py"
    elsewhere.parent.mkdir()
    elsewhere.write_text("raise SystemExit('must not run')")
    path = _plugin_suite(tmp_path / "suite", "../elsewhere/my_plugin.py")
    with pytest.raises(ConfigErrors, match=r"plugins\[0\]: .*my_plugin\.py is outside the suite's "
                                           r"folder .*--allow-plugin"):
        load_suite(path, run_plugins=False)
    suite = load_suite(path, run_plugins=False, allow_plugins=(elsewhere,))
    assert suite.plugins == (str(elsewhere.resolve()),) and suite.unchecked
    assert main(["status", str(path), "--results", str(tmp_path / "r")]) == 2  # as run: refused
    assert main(["status", str(path), "--results", str(tmp_path / "r"), "--allow-plugin",
                 str(elsewhere)]) == 0  # ... unless allowed, and never run (it would exit)


def test_set_resources_applies_to_both_kinds_of_suite(tmp_path):
    """The documented GPU sweep (``--set scaling.device=cuda --set resources.gpus=1``) asks the
    executor for a GPU; a training suite takes ``--set resources.*`` the same way."""
    sweep = load_suite(REPO / "suites" / "scaling.yaml", results_root=tmp_path,
                       sets=["scaling.device=cuda", "resources.gpus=1", "resources.time_min=30"])
    assert (sweep.spec.resources.gpus, sweep.spec.resources.time_min) == (1, 30)
    assert sweep.scaling["device"] == "cuda"
    assert load_suite(REPO / "suites" / "scaling.yaml", results_root=tmp_path).scaling["device"] == "auto"
    train = load_suite(write(tmp_path, "base: digits\n"), sets=["resources.gpus=2"],
                       results_root=tmp_path)
    assert train.spec.resources.gpus == 2 and all("resources" not in r.config.to_dict()
                                                  for r in train.runs)
