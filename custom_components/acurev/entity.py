"""Base entity: one device per meter, unique ids ``<serial>_<point key>``."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from pyacurev.models import DeviceInfo as MeterInfo
from pyacurev.points import Point, PointValue

from .const import DOMAIN, MANUFACTURER
from .coordinator import AcuRevCoordinator, AcuRevRuntimeData


def device_info(dev: MeterInfo) -> DeviceInfo:
    """The meter as a Home Assistant device."""
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
        self._attr_device_info = device_info(runtime.device)

    @property
    def point_value(self) -> PointValue:
        """The point's value in the latest snapshot (None when absent)."""
        if self.coordinator.data is None:
            return None
        return self.point.value(self.coordinator.data)
