"""``python -m livingreview.runs``: list, show and reproduce runs (see :mod:`.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
