"""``python -m validate.load``: the soak test's former name, kept working; the code is validate/soak.py."""

from __future__ import annotations

import sys

from validate.soak import main

if __name__ == "__main__":
    sys.exit(main())
