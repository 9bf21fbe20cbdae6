"""``python -m bacnet_bridge``: see :mod:`bacnet_bridge.cli`."""

import sys

from .cli import main

sys.exit(main())
