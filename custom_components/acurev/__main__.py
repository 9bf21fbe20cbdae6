"""``python -m custom_components.acurev snapshot|probe ...`` (see protocol/cli.py).

Imports only the protocol package: the command must work without Home
Assistant's runtime, on any machine that can reach the meter.
"""

import sys

from custom_components.acurev.protocol.cli import main

if __name__ == "__main__":
    sys.exit(main())
