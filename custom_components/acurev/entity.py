"""Base entity: one device per meter, unique ids ``<serial>_<point key>``."""

from __future__ import annotations

import math

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from pyacurev.points import Point, PointValue, Quantity

from .const import DOMAIN, MANUFACTURER
from .coordinator import AcuRevCoordinator, AcuRevRuntimeData

# float32 carries 24 bits, about 7 significant decimal digits; whatever follows them
# is noise of the conversion (1.2 kW -> 1200.00004768372 W), not a measurement.
FLOAT32_DIGITS = 7
# Counted, not measured: scaled integers the decoder already rounded to their step.
_EXACT = frozenset(
    {
        Quantity.ENERGY,
        Quantity.REACTIVE_ENERGY,
        Quantity.APPARENT_ENERGY,
        Quantity.COUNT,
        Quantity.DURATION_H,
    }
)


def meter_resolution(value: PointValue, quantity: Quantity) -> PointValue:
    """``value`` rounded to what the meter resolves (the one place states are rounded)."""
    if quantity in _EXACT or isinstance(value, bool) or not isinstance(value, float):
        return value
    if value == 0 or not math.isfinite(value):
        return value
    digits = FLOAT32_DIGITS - 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def device_info(runtime: AcuRevRuntimeData) -> DeviceInfo:
    """The meter as a Home Assistant device."""
    dev = runtime.device
    return DeviceInfo(
        identifiers={(DOMAIN, dev.serial)},
        manufacturer=MANUFACTURER,
        model=f"AcuRev {dev.model}",
        # The build, which decides the entities: CT input type and number of channels.
        model_id=f"{dev.model}-{'333MV' if dev.is_333mv else 'CT'}-{dev.installed_channels}",
        name=f"AcuRev {dev.model} {dev.serial}",
        serial_number=dev.serial,
        sw_version=dev.firmware_version,
        hw_version=dev.hardware_version,
    )


class AcuRevEntity(CoordinatorEntity[AcuRevCoordinator]):
    """An entity backed by one point of the catalogue."""

    _attr_has_entity_name = True

    def __init__(
        self, runtime: AcuRevRuntimeData, coordinator: AcuRevCoordinator, point: Point
    ) -> None:
        """Bind the point to its coordinator."""
        super().__init__(coordinator)
        self.point = point
        self._attr_unique_id = f"{runtime.device.serial}_{point.key}"
        self._attr_translation_key = point.translation_key
        self._attr_translation_placeholders = dict(point.placeholders)
        self._attr_entity_registry_enabled_default = point.enabled_default
        self._attr_device_info = device_info(runtime)

    @property
    def point_value(self) -> PointValue:
        """The point's value in the latest snapshot (None when absent)."""
        if self.coordinator.data is None:
            return None
        return meter_resolution(self.point.value(self.coordinator.data), self.point.quantity)
