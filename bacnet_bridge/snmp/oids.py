"""Object identifiers of ACUREV-BRIDGE-MIB (mibs/ACUREV-BRIDGE-MIB.txt) and standard ones.

Keep this file and the MIB in step: tests/bridge/test_snmp_mib.py resolves every name here
with net-snmp's snmptranslate against the MIB file.
"""

from __future__ import annotations

type Oid = tuple[int, ...]

# PLACEHOLDER: 32473 is IANA's Private Enterprise Number for documentation (RFC 5612).
# Replace it (and the MODULE-IDENTITY in mibs/ACUREV-BRIDGE-MIB.txt) with a registered PEN.
ENTERPRISE_NUMBER = 32473
ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)
ROOT: Oid = (*ENTERPRISES, ENTERPRISE_NUMBER)  # acurevBridgeMIB

NOTIFICATIONS: Oid = (*ROOT, 0)
OBJECTS: Oid = (*ROOT, 1)
PRODUCT: Oid = (*ROOT, 3, 1)  # acurevBridge: the sysObjectID

INFO: Oid = (*OBJECTS, 1)
BRIDGE_VERSION: Oid = (*INFO, 1, 0)
BRIDGE_HA_CONNECTED: Oid = (*INFO, 2, 0)
BRIDGE_METER_COUNT: Oid = (*INFO, 3, 0)
BRIDGE_ALARMS_SENT: Oid = (*INFO, 4, 0)

METER_ENTRY: Oid = (*OBJECTS, 2, 1)
CHANNEL_ENTRY: Oid = (*OBJECTS, 3, 1)
RELAY_ENTRY: Oid = (*OBJECTS, 4, 1)
DI_ENTRY: Oid = (*OBJECTS, 5, 1)
ALARM_OBJECTS: Oid = (*OBJECTS, 6)


class MeterCol:
    """acurevMeterEntry columns."""

    SERIAL = 2
    NAME = 3
    MODEL = 4
    FIRMWARE = 5
    AVAILABLE = 6
    FREQUENCY = 7
    VOLTAGE_A = 8
    VOLTAGE_B = 9
    VOLTAGE_C = 10
    POWER = 11
    POWER_FACTOR = 12
    IMPORT_ENERGY = 13
    EXPORT_ENERGY = 14


class ChannelCol:
    """acurevChannelEntry columns."""

    NAME = 2
    CURRENT = 3
    POWER = 4
    POWER_FACTOR = 5
    IMPORT_ENERGY = 6
    EXPORT_ENERGY = 7
    AVAILABLE = 8


class RelayCol:
    """acurevRelayEntry columns."""

    NAME = 2
    STATE = 3
    AVAILABLE = 4


class DiCol:
    """acurevDigitalInputEntry columns."""

    NAME = 2
    STATE = 3
    COUNT = 4
    AVAILABLE = 5


ALARM_NOTIFICATION: Oid = (*NOTIFICATIONS, 1)
ALARM_CHANNEL: Oid = (*ALARM_OBJECTS, 1)
ALARM_PARAMETER: Oid = (*ALARM_OBJECTS, 2)
ALARM_VALUE: Oid = (*ALARM_OBJECTS, 3)
ALARM_STATE: Oid = (*ALARM_OBJECTS, 4)
ALARM_OCCURRED = 1
ALARM_RECOVERED = 2

# TruthValue and AcurevOnOff
TRUE, FALSE = 1, 2
ON, OFF = 1, 2

# Standard objects the agent serves besides its own subtree.
SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR: Oid = (*SYSTEM, 1, 0)
SYS_OBJECT_ID: Oid = (*SYSTEM, 2, 0)
SYS_UPTIME: Oid = (*SYSTEM, 3, 0)
SYS_CONTACT: Oid = (*SYSTEM, 4, 0)
SYS_NAME: Oid = (*SYSTEM, 5, 0)
SYS_LOCATION: Oid = (*SYSTEM, 6, 0)
SYS_SERVICES: Oid = (*SYSTEM, 7, 0)
SNMP_TRAP_OID: Oid = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
# SNMP-FRAMEWORK-MIB snmpEngine group: after our subtree, so a walk of the enterprise tree
# ends inside the view instead of in endOfMibView (pitfall S6).
SNMP_ENGINE: Oid = (1, 3, 6, 1, 6, 3, 10, 2, 1)
SNMP_ENGINE_ID: Oid = (*SNMP_ENGINE, 1, 0)
SNMP_ENGINE_BOOTS: Oid = (*SNMP_ENGINE, 2, 0)
SNMP_ENGINE_TIME: Oid = (*SNMP_ENGINE, 3, 0)
SNMP_ENGINE_MAX_MSG: Oid = (*SNMP_ENGINE, 4, 0)

# What every principal may read (and what notifications may carry).
VIEW_SUBTREES: tuple[Oid, ...] = (SYSTEM, ROOT, SNMP_ENGINE)


def text(oid: Oid) -> str:
    """Dotted form, as net-snmp prints with -On (leading dot)."""
    return "." + ".".join(str(arc) for arc in oid)
