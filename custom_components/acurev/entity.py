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


def device_info(dev: MeterInfo, meter_id: str, identified: bool) -> DeviceInfo:
    """The meter as a Home Assistant device, identified by the entry's meter id.

    ``identified`` False: the (designed) identity block did not answer plausibly, so
    serial, model and versions are unknown; the meter is named by its id.
    """
    model = dev.model if identified else 2020
    return DeviceInfo(
        identifiers={(DOMAIN, meter_id)},
        manufacturer=MANUFACTURER,
        model=f"AcuRev {model}",
        # The build, which decides the entities: CT input type and number of channels.
        model_id=f"{model}-{'333MV' if dev.is_333mv else 'CT'}-{dev.installed_channels}",
        name=f"AcuRev {model} {dev.serial if identified else meter_id}",
        serial_number=dev.serial if identified else None,
        sw_version=dev.firmware_version if identified else None,
        hw_version=dev.hardware_version if identified else None,
    )


def runtime_device_info(runtime: AcuRevRuntimeData) -> DeviceInfo:
    """The device of a loaded entry."""
    return device_info(runtime.device, runtime.meter_id, runtime.discovery.identified)


class AcuRevEntity(CoordinatorEntity[AcuRevCoordinator]):
    """An entity made from one catalogue point's description (subclasses narrow its type)."""

    _attr_has_entity_name = True

    def __init__(
        self, runtime: AcuRevRuntimeData, coordinator: AcuRevCoordinator, description: _Description
    ) -> None:
        """Bind the description to its coordinator; unique id ``<meter id>_<point key>``."""
        super().__init__(coordinator)
        self.entity_description = description
        self._value_fn = description.value_fn
        self._group = description.group
        self._attr_unique_id = f"{runtime.meter_id}_{description.key}"
        self._attr_device_info = runtime_device_info(runtime)

    @property
    def available(self) -> bool:
        """Available while the coordinator polls and this point's read group answers.

        A group that stops answering (a refused block) takes only its own
        entities down; the core readings stay available.
        """
        if not super().available:
            return False
        data = self.coordinator.data
        return data is None or self._group is None or self._group not in data.failed_groups

    @property
    def point_value(self) -> PointValue:
        """The point's value in the latest snapshot (None when absent)."""
        if self.coordinator.data is None:
            return None
        return self._value_fn(self.coordinator.data)
