"""A faithful Accuenergy AcuRev 2020 simulator (Modbus TCP) for tests and demos.

``MeterModel`` is the ground truth, ``Simulator`` serves it over Modbus TCP,
``Faults`` is what a test can make it do wrong. Run ``python -m acurev_simulator``
(or ``acurev-simulator`` once installed). Builds on ``pyacurev`` only: the
register table both sides share.
"""

from .faults import Faults
from .meter import MeterModel
from .server import Simulator, Stats

__all__ = ["Faults", "MeterModel", "Simulator", "Stats"]
