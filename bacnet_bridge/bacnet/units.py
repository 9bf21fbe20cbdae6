"""Home Assistant units -> BACnet engineering units (with a scale where needed).

A BACnet REAL is a float32 (24-bit mantissa): 1 234 567.89 kWh reads back as
1 234 567.875, and above 16.7 million the step is a whole unit. So energy is
always published in kWh (kvarh, kVAh) even if a user made Home Assistant show
Wh: the scale factor converts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bacpypes3.basetypes import EngineeringUnits


@dataclass(frozen=True, slots=True)
class UnitMapping:
    """How a Home Assistant unit is published in BACnet."""

    units: EngineeringUnits
    scale: float = 1.0  # BACnet value = HA value * scale
    cov_increment: float = 1.0  # default COV_Increment, in BACnet units (writable)

    @property
    def code(self) -> int:
        """The numeric BACnet engineering-units code (EDE files use it)."""
        return int(self.units)


E = EngineeringUnits

# Default COV increments: the smallest change a BMS trend usually cares about; writable, so a
# BMS can tune them per object (and the bridge keeps what it wrote across restarts).
UNITS: dict[str, UnitMapping] = {
    "W": UnitMapping(E.watts, cov_increment=10.0),
    "kW": UnitMapping(E.kilowatts, cov_increment=0.01),
    "MW": UnitMapping(E.megawatts, cov_increment=0.001),
    "var": UnitMapping(E.voltAmperesReactive, cov_increment=10.0),
    "kvar": UnitMapping(E.kilovoltAmperesReactive, cov_increment=0.01),
    "VA": UnitMapping(E.voltAmperes, cov_increment=10.0),
    "kVA": UnitMapping(E.kilovoltAmperes, cov_increment=0.01),
    "V": UnitMapping(E.volts, cov_increment=0.5),
    "mV": UnitMapping(E.millivolts, cov_increment=10.0),
    "kV": UnitMapping(E.kilovolts, cov_increment=0.001),
    "A": UnitMapping(E.amperes, cov_increment=0.05),
    "mA": UnitMapping(E.milliamperes, cov_increment=50.0),
    "Hz": UnitMapping(E.hertz, cov_increment=0.01),
    # Energy: always kWh-class units (float32, see the module docstring).
    "Wh": UnitMapping(E.kilowattHours, scale=0.001, cov_increment=0.1),
    "kWh": UnitMapping(E.kilowattHours, cov_increment=0.1),
    "MWh": UnitMapping(E.megawattHours, cov_increment=0.001),
    "varh": UnitMapping(E.kilovoltAmpereHoursReactive, scale=0.001, cov_increment=0.1),
    "kvarh": UnitMapping(E.kilovoltAmpereHoursReactive, cov_increment=0.1),
    "VAh": UnitMapping(E.kilovoltAmpereHours, scale=0.001, cov_increment=0.1),
    "kVAh": UnitMapping(E.kilovoltAmpereHours, cov_increment=0.1),
    "%": UnitMapping(E.percent, cov_increment=0.5),
    "°": UnitMapping(E.degreesPhase, cov_increment=1.0),
    "s": UnitMapping(E.seconds, cov_increment=1.0),
    "min": UnitMapping(E.minutes, cov_increment=1.0),
    "h": UnitMapping(E.hours, cov_increment=0.1),
    "d": UnitMapping(E.days, cov_increment=0.01),
}

POWER_FACTOR = UnitMapping(E.powerFactor, cov_increment=0.01)
NO_UNITS = UnitMapping(E.noUnits, cov_increment=1.0)


def bacnet_units(unit: str | None, device_class: str | None = None) -> UnitMapping:
    """The BACnet units for a Home Assistant unit of measurement (and device class)."""
    if device_class == "power_factor" and not unit:
        return POWER_FACTOR
    if unit is None or unit == "":
        return NO_UNITS
    return UNITS.get(unit, NO_UNITS)
