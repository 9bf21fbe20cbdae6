"""AcuRev bridge: republishes the meters' Home Assistant entities over BACnet/IP and SNMP."""

# Reported as the BACnet device's Firmware_Revision; kept equal to pyproject's version
# (tests/bridge checks it).
__version__ = "0.1.0"
