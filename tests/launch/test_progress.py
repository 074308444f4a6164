"""Progress lines of a launched suite (ladabench.launch.progress.SuiteProgress), on a fake clock."""
import io
import json
from pathlib import Path
from types import SimpleNamespace

from ladabench.launch.progress import SuiteProgress, Terminal, format_duration, run_fraction, run_line


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def fake_run(root: Path, run_id: str, images=1000, budget=None, clock="wall"):
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    train = SimpleNamespace(images=images, time_budget_s=budget, time_budget_clock=clock)
    return SimpleNamespace(run_id=run_id, run_dir=run_dir, config=SimpleNamespace(train=train))


def log_train(run, images_seen, train_seconds=0.0, cpu=0.0):
    with open(run.run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"kind": "train", "step": 1, "images_seen": images_seen,
                            "wall_time_s": 1.0, "train_seconds": train_seconds,
                            "train_cpu_seconds": cpu}) + "\n")


def finish(run, images_seen, fid):
    (run.run_dir / "summary.json").write_text(json.dumps({
        "status": "finished", "images_seen": images_seen,
        "final": {"fid": {"value": fid, "std": None, "protocol": {}}}}))


def test_lines_show_state_done_of_total_and_an_eta(tmp_path):
    runs = [fake_run(tmp_path, n) for n in ("a", "b", "c")]
    clock, lines = Clock(), []
    p = SuiteProgress(runs, parallel=1, log=lines.append, clock=clock)
    p.start("a")
    assert lines[-1] == "[0/3 done, 1 running · ETA —] started   a"
    clock.now += 50
    log_train(runs[0], 250)  # a quarter done after 50 s: 150 s left, then 2 × 200 s queued
    assert p.eta() == 550
    clock.now += 50
    finish(runs[0], 1000, 412.34)
    p.end("a", "finished")
    assert lines[-1] == ("[1/3 done, 0 running · ETA 3 min 20 s] finished  a "
                         "(1,000 images, 1 min 40 s, fid 412.3)")
    (runs[0].run_dir / "summary.json").write_text(json.dumps({
        "status": "finished", "images_seen": 1000, "final": {"fid": {
            "value": 412.34, "checkpoint": "best.pt", "images_seen": 750, "protocol": {}}}}))
    p.end("a", "finished")  # the final protocol scored the best checkpoint, not the last
    assert lines[-1].endswith("(1,000 images, 1 min 40 s, fid 412.3 · best.pt at 750 images)")
    p.start("b")
    clock.now += 10
    log_train(runs[1], 500)  # b is twice as fast: 10 s left; c takes the mean of 100 and 20 s
    assert p.eta() == 10 + 60


def test_time_budget_counts_on_its_clock(tmp_path):
    run = fake_run(tmp_path, "t", images=10**6, budget=100.0, clock="cpu")
    log_train(run, 5000, train_seconds=90.0, cpu=40.0)
    assert run_fraction(run.run_dir, 10**6, 100.0, "cpu") == 0.4
    assert run_fraction(run.run_dir, 10**6, 100.0, "wall") == 0.9
    assert run_fraction(run.run_dir, 10**6, None) == 0.005
    assert run_fraction(tmp_path / "nothing", 100, None) == 0.0


def _beats(tmp_path, quiet):
    runs = [fake_run(tmp_path, n) for n in ("a", "b")]
    clock, lines = Clock(), []
    p = SuiteProgress(runs, parallel=2, log=lines.append, quiet=quiet, every_s=60, clock=clock)
    p.start("a", announce=False)
    p.start("b", announce=False)
    log_train(runs[0], 300)
    clock.now += 30
    p.beat()
    assert lines == []  # not due yet
    clock.now += 31
    p.beat()
    return lines


def test_periodic_lines_unless_quiet(tmp_path):
    assert _beats(tmp_path / "loud", quiet=False) == [
        "[0/2 done, 2 running · ETA 2 min 22 s] tick 1, 61 sec/tick, suite kimg 0.3/2.0",
        "  a: kimg 0.3/1.0 (30 %), ETA —",
        "  b: kimg 0.0/1.0 (0 %), ETA —"]
    assert _beats(tmp_path / "quiet", quiet=True) == []


def test_a_run_line_has_rate_eta_and_last_evaluation(tmp_path):
    run = fake_run(tmp_path, "r", images=68_096_000)
    with open(run.run_dir / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"kind": "eval", "step": 1, "images_seen": 6400, "wall_time_s": 1.0,
                            "results": {"fid": {"value": 23.456, "std": None}}}) + "\n")
        f.write(json.dumps({"kind": "train", "step": 2, "images_seen": 12_800, "wall_time_s": 2.0,
                            "img_per_s": 50.0, "train_seconds": 256.0}) + "\n")
    assert run_line("r", run.run_dir, 68_096_000) == (
        "r: kimg 12.8/68096.0 (0 %), 50.0 img/s, 20.0 sec/kimg, ETA 378 h 14 min, "
        "fid 23.46 at 6.4 kimg")
    # a time budget that ends first: 300 s of training, 256 s spent
    assert run_line("r", run.run_dir, 68_096_000, budget_s=300.0).endswith(
        "(85 %), 50.0 img/s, 20.0 sec/kimg, ETA 44 s, fid 23.46 at 6.4 kimg")


def test_on_a_terminal_the_tick_is_one_block_redrawn_in_place(tmp_path):
    stream = io.StringIO()
    terminal = Terminal(stream)
    runs = [fake_run(tmp_path, n) for n in ("a", "b")]
    clock = Clock()
    p = SuiteProgress(runs, parallel=2, log=terminal.log, every_s=5, clock=clock,
                      live=terminal.live)
    p.start("a")
    p.start("b")
    for _ in range(2):
        clock.now += 5
        p.beat()
    p.end("a", "finished")
    text = stream.getvalue()
    assert "\x1b" not in text.split("tick 1")[0]  # log lines before the first block are plain
    assert text.count("\x1b[3F\x1b[J") == 2  # tick 2 and the end line replace a 3-line block
    assert text.endswith("finished  a (0 images, 10 s)\n")


def test_format_duration():
    assert [format_duration(s) for s in (7, 65, 3725)] == ["7 s", "1 min 05 s", "1 h 02 min"]


def test_dry_run_schedule_shows_a_time_budget():
    from ladabench.launch.status import schedule_text
    from ladabench.config.train import TrainConfig

    assert schedule_text(TrainConfig(images=8192)) == "8,192"
    budget = TrainConfig(images=10**6, time_budget_s=150, time_budget_clock="cpu")
    assert schedule_text(budget) == "1,000,000 or 150 s cpu"
