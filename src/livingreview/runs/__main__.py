"""``python -m livingreview.runs``: the helpers bin/scheduled-update calls (see scheduler)."""

import sys

from .scheduler import main

if __name__ == "__main__":
    sys.exit(main())
