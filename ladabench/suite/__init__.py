"""Suite files: a base, overrides and a grid expanded into validated run configs with stable
ids (``spec``), the grid mechanics (``grid``), the named bases (``bases``), the checks a schema
cannot express (``checks``) and user plugins (``plugins``)."""
from ladabench.suite.grid import run_name
from ladabench.suite.spec import Resources, Run, Suite, SuiteSpec, load_suite

__all__ = ["Resources", "Run", "Suite", "SuiteSpec", "load_suite", "run_name"]
