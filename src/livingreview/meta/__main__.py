"""``python -m livingreview.meta`` (what ``bin/pool`` runs): see :mod:`livingreview.meta.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
