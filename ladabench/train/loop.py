"""The training loop: schedules only (the maths is in ``steps.py``). Progress is counted in
images shown to D (iterations × batch, docs/paper.md §8.8); logging, samples, evaluation and
checkpoints fire when the images seen cross a multiple of their ``*_every_images`` (evaluation:
``eval.every_images`` or ``eval.every_iterations`` × batch).

``train.time_budget_s`` ends the schedule early once the training steps (not evaluations,
samples or checkpoints) have taken that long, in wall-clock or process CPU seconds
(``train.time_budget_clock``); ``eval.at_images`` adds evaluations at given
images seen, 0 being the untrained generator before the first step.

Divergence: statistics are synced once per log interval (no per-step ``.item()``); the first
non-finite row gives the exact step. The run stops at the end of that interval and writes no
checkpoint after it, so ``checkpoints/last.pt`` is the last good state. Every checkpoint,
sample or evaluation flushes the statistics first, so no NaN state is ever saved or sampled.

On several processes (docs/distributed.md) every rank runs this loop on its slice of each
batch and takes every decision at the same step: the statistics of an interval are averaged
over the ranks before they are read (divergence and spikes are found alike everywhere), a stop
(signal, stop request, time budget) on any rank stops all of them at the next step boundary (a
flag all-reduced on the CPU per step), and only rank 0 writes the run directory; the others
wait while it evaluates.
"""
from __future__ import annotations

import math
import statistics
import time
from typing import Callable

import torch
from tqdm import tqdm

from ladabench.config import RunConfig
from ladabench.core.io import append_jsonl, require_free_space
from ladabench.data.loader import device_batches, image_loader
from ladabench.train.checkpoint import (
    load_checkpoint, load_module_state, load_optimizer_state, require, rng_state,
    save_checkpoint, set_rng_state,
)
from ladabench.train.distributed import SINGLE, DistContext
from ladabench.train.draws import rank_seed
from ladabench.train.memory import PeakMemory
from ladabench.train.observe import R1_ON, STEP_STATS, StatsLog
from ladabench.core.rundir import RunDir
from ladabench.train.samples import write_real_grid, write_samples
from ladabench.train.sampler import EpochBatchSampler
from ladabench.train.setup import TrainSetup, build_setup
from ladabench.train.trackers import Trackers

SPIKE_NAMES = ["grad_norm/G", "grad_norm/D"]
#: free space kept beyond a checkpoint's size (metrics lines, the summary, samples)
CHECKPOINT_MARGIN = 4 * 2**20


def _tensor_bytes(obj) -> int:
    """Bytes of the tensors in a nested payload (a checkpoint's size, near enough)."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


class Trainer:
    """Owns the models of one run and moves them through the schedule of ``cfg.train``."""

    def __init__(self, cfg: RunConfig, rd: RunDir, device: torch.device, quiet: bool = False,
                 dist: DistContext = SINGLE) -> None:
        self.cfg, self.rd, self.device, self.dist = cfg, rd, device, dist
        self.quiet = quiet or not dist.is_main
        self.t = cfg.train
        self.s: TrainSetup = build_setup(cfg, device, dist=dist)
        self.names = list(STEP_STATS) + [R1_ON] + self.s.d_norms.names + self.s.g_norms.names
        self.log = StatsLog(self.names, SPIKE_NAMES, self.t.spike_factor, self.t.spike_window)
        self.step, self.images_seen, self.spikes = 0, 0, 0
        self.best: dict = {}
        self.total_steps = math.ceil(self.t.images / self.t.batch_size)
        self.wall_before = 0.0  # wall time of earlier sessions
        self.start = time.perf_counter()
        self.trained_images = 0  # this session, boundaries excluded
        self.spent = {"wall": 0.0, "cpu": 0.0}  # seconds of training steps, this session
        self.spent_before = {"wall": 0.0, "cpu": 0.0}  # ... and of earlier sessions
        self.rates: list[float] = []  # img/s of each log interval after a session's first
        self.session_intervals = 0
        self.tick = self.clock()  # start of the current stretch of training steps
        self.stopped_by: str | None = None
        #: what stopped the run early, agreed by the ranks: a signal's number, 1 = a request
        self.stop_code = 0
        self.diverged_at: dict | None = None
        #: step and images seen of the latest ``last.pt`` (None before the first)
        self.last_checkpoint: dict | None = None
        self.memory = PeakMemory(device)
        #: called after every ``last.pt`` write (the engine records it in the summary)
        self.on_checkpoint: Callable[[], None] | None = None
        self.one = torch.ones((), device=device)
        self.zero = torch.zeros((), device=device)
        gen = torch.Generator().manual_seed(self.t.seed + 77)  # fixed z: never the global RNG
        self.fixed_z = torch.randn(self.t.n_samples, self.t.noise_dim, generator=gen).to(device)
        self.trackers = Trackers(cfg, rd) if dist.is_main else None

    # ---- state -------------------------------------------------------------------------
    def payload(self) -> dict:
        """Everything an exact resume needs (``save_checkpoint`` adds the RNG states)."""
        s = self.s
        return {
            "G": s.G.state_dict(), "D": s.D.state_dict(), "G_ema": s.G_ema.state_dict(),
            "opt_G": s.opt_G.state_dict(), "opt_D": s.opt_D.state_dict(),
            **self.counters(),
        }

    def save_finished(self) -> None:
        """Shrink ``last.pt`` to what a finished run keeps: G, D and the EMA generator (a run
        can be continued from them with fresh Adam moments), no optimiser or RNG states unless
        ``train.keep_optimizer_state``. Called once the summary says ``finished``, so a crash
        before that still resumes from the full checkpoint."""
        if self.t.keep_optimizer_state:
            return
        s = self.s
        save_checkpoint(self.rd.last, {"G": s.G.state_dict(), "D": s.D.state_dict(),
                                       "G_ema": s.G_ema.state_dict(), **self.counters()}, rng=False)

    def best_payload(self) -> dict:
        """The EMA generator at its best evaluation (what samples and metrics use)."""
        return {"G_ema": self.s.G_ema.state_dict(), **self.counters()}

    def counters(self) -> dict:
        return {
            "step": self.step, "images_seen": self.images_seen, "best": self.best,
            "spikes": self.spikes, "wall_time_s": self.wall_time(),
            "train_seconds": {c: self.training_seconds(c) for c in self.spent},
            "interval_rates": list(self.rates),
            "spike_history": {k: list(v) for k, v in self.log.history.items()},
            "config": self.cfg.to_dict(), "config_hash": self.cfg.config_hash(),
        }

    def restore(self, path) -> None:
        """Continue from a checkpoint: models, optimisers, counters, RNG states. A checkpoint
        that does not fit (missing entries, other shapes) is a one-line DataError."""
        ck = load_checkpoint(path)
        s = self.s
        for module, key in ((s.G, "G"), (s.D, "D"), (s.G_ema, "G_ema")):
            load_module_state(module, ck, key, path)
        load_optimizer_state(s.opt_G, ck, "opt_G", path)
        load_optimizer_state(s.opt_D, ck, "opt_D", path)
        counters = [require(ck, k, path) for k in ("step", "images_seen", "best", "spikes",
                                                   "wall_time_s", "spike_history", "rng")]
        self.step, self.images_seen, self.best, self.spikes, self.wall_before = counters[:5]
        self.spent_before = dict(ck.get("train_seconds", self.spent_before))
        self.rates = list(ck.get("interval_rates", []))
        for k, v in counters[5].items():
            self.log.history[k].extend(v)
        self.restore_rng(counters[6], ck.get("rng_ranks"))
        self.last_checkpoint = {"step": self.step, "images_seen": self.images_seen}

    def restore_rng(self, main: dict, ranks: list[dict] | None) -> None:
        """This rank's random streams: its own saved state when the checkpoint's world size
        is this run's; with other world sizes and ``rank_streams: own``, streams derived from
        (seed, rank, step) (the data order and the global batch continue exactly, the latents
        and augmentations anew); otherwise rank 0's (one process; ``sliced`` streams, which
        are the same on every rank)."""
        d = self.dist
        if d.world_size > 1 and self.t.rank_streams == "own":
            if ranks is not None and len(ranks) == d.world_size:
                set_rng_state(ranks[d.rank], self.device)
            else:
                torch.manual_seed(rank_seed(self.t.seed, d.rank, self.step))
            return
        set_rng_state(main, self.device)

    def wall_time(self) -> float:
        return self.wall_before + time.perf_counter() - self.start

    def clock(self) -> dict:
        """Now: wall clock, process CPU time (all threads) and images seen."""
        return {"wall": time.perf_counter(), "cpu": time.process_time(), "images": self.images_seen}

    def training_seconds(self, clock: str = "wall") -> float:
        """Seconds of training steps up to the last log flush, all sessions (evaluations,
        samples and checkpoints excluded), on the ``wall`` or ``cpu`` clock."""
        return self.spent_before[clock] + self.spent[clock]

    def out_of_time(self) -> bool:
        """The time budget is spent, counting the steps since the last flush."""
        budget, clock = self.t.time_budget_s, self.t.time_budget_clock
        if budget is None:
            return False
        running = self.clock()[clock] - self.tick[clock]
        return self.training_seconds(clock) + running >= budget

    def steady_img_per_s(self) -> float | None:
        """Median img/s over the log intervals, each session's first (warm-up) excluded; the
        mean rate of this session when no such interval exists. A stall of the machine moves
        one interval, not the figure."""
        if self.rates:
            return statistics.median(self.rates)
        wall = self.spent["wall"]
        return self.trained_images / wall if wall else None

    def record(self, record: dict) -> None:
        """Append one line to ``metrics.jsonl`` (the source of truth), then pass it to the
        experiment trackers (``train.log_to``); rank 0 only."""
        if self.trackers is None:
            return
        append_jsonl(self.rd.metrics, record)
        self.trackers.record(record)

    def close_trackers(self, final: dict | None = None) -> None:
        """Pass the final scores (``summary``'s ``final`` and ``final_last``) to the experiment
        trackers, then close them; rank 0 only."""
        if self.trackers is None:
            return
        if final:
            self.trackers.final(final, self.images_seen)
        self.trackers.close()

    def event(self, event: str, **details) -> None:
        self.record({
            "kind": "event", "event": event, "step": self.step,
            "images_seen": self.images_seen, "wall_time_s": self.wall_time(), **details,
        })

    # ---- one iteration -----------------------------------------------------------------
    def train_step(self, real: torch.Tensor) -> None:
        """One D step then one G step; pushes the statistics row (no host sync)."""
        t, s = self.t, self.s
        do_r1 = t.r1_weight > 0 and self.step % t.r1_interval == 0
        d_stats, d_gn = s.d_step(real, do_r1=do_r1)
        g_stats, g_gn = s.g_step()
        stats = {**d_stats, **g_stats}
        head = torch.stack([stats[n] for n in STEP_STATS] + [self.one if do_r1 else self.zero])
        self.log.push(self.step + 1, torch.cat([head.float(), d_gn, g_gn]))

    # ---- schedule ----------------------------------------------------------------------
    def crossed(self, every: int) -> bool:
        """The last step crossed a multiple of ``every`` images."""
        return every > 0 and self.images_seen // every > (self.images_seen - self.t.batch_size) // every

    def crossed_point(self, points: list[int]) -> bool:
        """The last step crossed one of ``points`` (images seen > 0)."""
        before = self.images_seen - self.t.batch_size
        return any(before < p <= self.images_seen for p in points)

    def batches(self):
        sampler = EpochBatchSampler(len(self.s.dataset), self.t.batch_size, self.t.seed, self.step,
                                    self.dist.rank, self.dist.world_size)
        loader = image_loader(self.s.dataset, sampler, self.device,
                              workers=self.cfg.data.workers, seed=self.t.seed)
        fmt = torch.channels_last if self.t.channels_last else torch.contiguous_format
        yield from device_batches(loader, self.device, fmt)

    def train(self, should_stop: Callable[[], int] | None = None,
              on_eval: Callable[[int], dict] | None = None) -> str:
        """Run until the schedule ends, D/G diverge or ``should_stop()`` is non-zero (a signal
        number, or 1 / True for a stop request); return the status."""
        if self.dist.is_main:
            real_grid = write_real_grid(self.s.dataset, self.t.n_samples, self.rd.samples)
            if real_grid is not None:
                self.event("sample", files=[real_grid])
        if on_eval is not None and self.step == 0 and 0 in self.cfg.eval.at_images:
            self.evaluate(on_eval)
        bar = tqdm(total=self.total_steps * self.t.batch_size, initial=self.images_seen,
                   unit="img", unit_scale=True, disable=self.quiet, dynamic_ncols=True)
        self.tick = self.clock()
        self.session_intervals = 0
        try:
            done = self.step >= self.total_steps
            if done or self.dist.max(int(self.out_of_time()))[0]:  # a resumed run that was done
                self.stopped_by = "images" if done else "time_budget"
                return "finished"
            for real in self.batches():
                self.train_step(real)
                self.step += 1
                self.images_seen += self.t.batch_size
                bar.update(self.t.batch_size)
                status = self.boundary(should_stop, on_eval, bar)
                if status is not None:
                    return status
        finally:
            bar.close()
        raise AssertionError("the batch stream is infinite")

    def boundary(self, should_stop, on_eval, bar) -> str | None:
        """Logging, samples, evaluation, checkpoints after a step; a status ends the run."""
        t = self.t
        last = self.step >= self.total_steps
        # one decision for all ranks: their clocks and signals differ
        code, over = self.dist.max(int(should_stop()) if should_stop is not None else 0,
                                   int(not last and self.out_of_time()))
        stop = code > 0
        if stop:
            self.stop_code = code
        if over:
            last, self.stopped_by = True, "time_budget"
        elif last:
            self.stopped_by = "images"
        ckpt = self.crossed(t.checkpoint_every_images) or last or stop
        sample = self.crossed(t.sample_every_images) or last
        period = self.cfg.eval.period_images(t.batch_size)
        evaluate = on_eval is not None and (self.crossed(period)
                                            or self.crossed_point(self.cfg.eval.at_images))
        if not (self.crossed(t.log_every_images) or ckpt or sample or evaluate):
            return None
        if self.flush(bar):
            return "diverged"
        if sample and self.dist.is_main:
            files = write_samples(self.s.G_ema, self.fixed_z, t.n_attn_samples,
                                  self.rd.samples, self.images_seen)
            self.event("sample", files=files)
        if evaluate:
            self.evaluate(on_eval)
        if ckpt:
            self.save_last()
        self.tick = self.clock()  # img/s and the time budget measure training only
        if last:
            return "finished"
        return "interrupted" if stop else None

    def evaluate(self, on_eval: Callable[[int], dict]) -> None:
        """Rank 0 evaluates the EMA generator (the same on every rank) and keeps ``best.pt``
        when it improved; the other ranks wait for it."""
        # rank 0 alone, not generation on every rank with the features gathered: its result is
        # one process's by construction (same weights, same evaluation seeds), and ranks that
        # share one CPU's cores would not finish sooner (docs/distributed.md §6)
        if self.dist.is_main and on_eval(self.images_seen).get("improved"):
            save_checkpoint(self.rd.best, self.best_payload(), rng=False)
        self.dist.wait_for_main()

    def save_last(self) -> None:
        """Write ``last.pt`` after checking that the disk holds one more (the size of the
        previous one, or of the state's tensors for the first), then tell ``on_checkpoint``.
        Several ranks: rank 0 writes, with every rank's random-number state (``rng_ranks``)."""
        ranks = self.dist.gather(rng_state(self.device)) if self.dist.world_size > 1 else None
        if self.dist.is_main:
            payload = self.payload()
            if ranks is not None:
                payload["rng_ranks"] = ranks
            need = self.rd.last.stat().st_size if self.rd.last.exists() else _tensor_bytes(payload)
            require_free_space(self.rd.last, need + CHECKPOINT_MARGIN)
            save_checkpoint(self.rd.last, payload, device=self.device)
        self.last_checkpoint = {"step": self.step, "images_seen": self.images_seen}
        self.event("checkpoint", path="checkpoints/last.pt")
        if self.on_checkpoint is not None:
            self.on_checkpoint()

    def flush(self, bar) -> bool:
        """Write the interval's ``train`` record and events; True when a step diverged."""
        interval = self.log.flush(self.dist.mean)
        if interval is None:
            return False
        for spike in interval.spikes:
            self.spikes += 1
            self.event("spike", **spike, images_seen=spike["step"] * self.t.batch_size)
        now, seen = self.clock(), self.images_seen
        for c in self.spent:
            self.spent[c] += now[c] - self.tick[c]
        self.trained_images += seen - self.tick["images"]
        rate = (seen - self.tick["images"]) / max(now["wall"] - self.tick["wall"], 1e-9)
        self.session_intervals += 1
        if self.session_intervals > 1 and seen > self.tick["images"]:
            self.rates.append(rate)
        if interval.record:
            self.record({
                "kind": "train", "step": self.step, "images_seen": seen,
                "wall_time_s": self.wall_time(), **interval.record, "img_per_s": rate,
                "train_seconds": self.training_seconds("wall"),
                "train_cpu_seconds": self.training_seconds("cpu"),
            })
            bar.set_postfix({k: f"{interval.record[k]:.3f}" for k in ("loss/D", "loss/G")},
                            refresh=False)
        if interval.bad_step is not None:
            self.diverged_at = {"step": interval.bad_step,
                                "images_seen": interval.bad_step * self.t.batch_size}
            self.event("diverged", **self.diverged_at)
            return True
        return False
