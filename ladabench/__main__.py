"""``python -m ladabench``: the ``ladabench`` command."""
import sys

from ladabench.cli import main

sys.exit(main())
