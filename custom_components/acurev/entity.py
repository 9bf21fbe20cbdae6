"""Base entity: one device per meter, unique ids ``<serial>_<point key>``."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from pyacurev.models import DeviceInfo as MeterInfo
from pyacurev.points import PointValue

from .const import DOMAIN, MANUFACTURER
from .coordinator import AcuRevCoordinator, AcuRevRuntimeData
from .descriptions import (
    AcuRevBinarySensorEntityDescription,
    AcuRevSensorEntityDescription,
    AcuRevSwitchEntityDescription,
)

type _Description = (
    AcuRevSensorEntityDescription
    | AcuRevBinarySensorEntityDescription
    | AcuRevSwitchEntityDescription
)


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
    """An entity made from one catalogue point's description (subclasses narrow its type)."""

    _attr_has_entity_name = True

    def __init__(
        self, runtime: AcuRevRuntimeData, coordinator: AcuRevCoordinator, description: _Description
    ) -> None:
        """Bind the description to its coordinator; unique id ``<serial>_<point key>``."""
        super().__init__(coordinator)
        self.entity_description = description
        self._value_fn = description.value_fn
        self._attr_unique_id = f"{runtime.device.serial}_{description.key}"
        self._attr_device_info = device_info(runtime.device)

    @property
    def point_value(self) -> PointValue:
        """The point's value in the latest snapshot (None when absent)."""
        if self.coordinator.data is None:
            return None
        return self._value_fn(self.coordinator.data)
