"""``python -m acurev_simulator``."""

from .cli import main

raise SystemExit(main())
