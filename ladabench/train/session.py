"""The start of a training session in a run directory that an earlier session may have left in
any state (killed, out of disk, its lock abandoned): clean up, then say what was done as events
in ``metrics.jsonl``.

- temp files of killed atomic writes (``.<name>.<random>.tmp``) are deleted;
- a torn last line of ``metrics.jsonl`` (a write cut by a kill or a full disk) is cut away;
- lines past the checkpoint the session resumes from are dropped: those steps are trained
  again, so the file never holds a step twice (without a checkpoint, every ``train``/``eval``
  line goes; events at step 0 stay as history);
- a lock left by a dead owner is recorded (``lock_takeover``, with the old owner).
"""
from __future__ import annotations

from ladabench.core.io import read_jsonl, remove_temp_files, repair_jsonl, rewrite_jsonl
from ladabench.core.rundir import RunDir, RunLock
from ladabench.train.loop import Trainer


def _replayed(record: dict, step: int, resumed: bool) -> bool:
    """A line the resumed session will write again."""
    if record.get("step", 0) > step:
        return True
    return not resumed and record.get("kind") != "event"


def drop_replayed_lines(rd: RunDir, step: int, resumed: bool) -> int:
    """Rewrite ``metrics.jsonl`` without the lines past ``step``; return how many went."""
    if not rd.metrics.exists():
        return 0
    records = read_jsonl(rd.metrics)
    kept = [r for r in records if not _replayed(r, step, resumed)]
    if len(kept) < len(records):
        rewrite_jsonl(rd.metrics, kept)
    return len(records) - len(kept)


def start_session(rd: RunDir, trainer: Trainer, lock: RunLock) -> None:
    """Tidy ``rd`` for a session that starts at ``trainer.step`` and log what was found."""
    removed = remove_temp_files(rd.path)
    cut = repair_jsonl(rd.metrics)
    resumed = trainer.last_checkpoint is not None
    dropped = drop_replayed_lines(rd, trainer.step, resumed)
    if lock.stale_owner:
        trainer.event("lock_takeover", previous_owner=lock.stale_owner)
    if removed or cut or dropped:
        trainer.event("repair", temp_files_removed=[str(p.relative_to(rd.path)) for p in removed],
                      torn_bytes_cut=cut, replayed_lines_dropped=dropped)
    if resumed:
        trainer.event("resume", from_step=trainer.step)
