"""Base entity: one device per meter, unique ids ``<serial>_<point key>``."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from pyacurev.points import Point, PointValue

from .const import DOMAIN, MANUFACTURER
from .coordinator import AcuRevCoordinator, AcuRevRuntimeData


def device_info(runtime: AcuRevRuntimeData) -> DeviceInfo:
    """The meter as a Home Assistant device (identified by the entry's meter id)."""
    dev = runtime.device
    identified = runtime.discovery.identified
    model = dev.model if identified else 2020
    return DeviceInfo(
        identifiers={(DOMAIN, runtime.meter_id)},
        manufacturer=MANUFACTURER,
        model=f"AcuRev {model}",
        # The build, which decides the entities: CT input type and number of channels.
        model_id=f"{model}-{'333MV' if dev.is_333mv else 'CT'}-{dev.installed_channels}",
        name=f"AcuRev {model} {dev.serial if identified else runtime.meter_id}",
        serial_number=dev.serial if identified else None,
        sw_version=dev.firmware_version if identified else None,
        hw_version=dev.hardware_version if identified else None,
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
        self._attr_unique_id = f"{runtime.meter_id}_{point.key}"
        self._attr_translation_key = point.translation_key
        self._attr_translation_placeholders = dict(point.placeholders)
        self._attr_entity_registry_enabled_default = point.enabled_default
        self._attr_device_info = device_info(runtime)

    @property
    def available(self) -> bool:
        """Available while the coordinator polls and this point's read group answers.

        A group that stops answering (a refused block) takes only its own
        entities down; the core readings stay available.
        """
        if not super().available:
            return False
        data = self.coordinator.data
        return (
            data is None or self.point.group is None or self.point.group not in data.failed_groups
        )

    @property
    def point_value(self) -> PointValue:
        """The point's value in the latest snapshot (None when absent)."""
        if self.coordinator.data is None:
            return None
        return self.point.value(self.coordinator.data)
