"""A faithful Accuenergy AcuRev 2020 simulator (Modbus TCP) for tests and demos.

``MeterModel`` is the ground truth, ``Simulator`` serves it over Modbus TCP,
``Faults`` is what a test can make it do wrong. Run ``python -m acurev_simulator``.
"""

from ._shared import bootstrap

bootstrap()

from .faults import Faults  # noqa: E402
from .meter import MeterModel  # noqa: E402
from .server import Simulator, Stats  # noqa: E402

__all__ = ["Faults", "MeterModel", "Simulator", "Stats"]
