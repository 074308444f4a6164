"""Reading results, torch-free: run directories → pandas (``load``), scaling sweeps → fits and
crossovers (``scaling``), and the regression gate against committed baselines (``baseline``,
``gate``)."""
from ladabench.results.load import Results, find_run_dirs, load_results, load_run

__all__ = ["Results", "find_run_dirs", "load_results", "load_run"]
