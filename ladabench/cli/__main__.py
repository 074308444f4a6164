"""``python -m ladabench.cli``: the ``ladabench`` command."""
import sys

from ladabench.cli import main

sys.exit(main())
