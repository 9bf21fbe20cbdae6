"""``python -m pyacurev snapshot|probe ...``: the same as the ``acurev`` console script."""

import sys

from pyacurev.cli import main

if __name__ == "__main__":
    sys.exit(main())
