"""The bridge's SNMP agent (pysnmp 7) and its MIB, mibs/ACUREV-BRIDGE-MIB.txt.

The process wiring calls :func:`start_snmp` inside its running event loop when
``config.snmp.enabled`` and ``await agent.close()`` on shutdown. See docs/SNMP.md.
"""

from __future__ import annotations

from .agent import SnmpAgent, SnmpStartError, start_snmp

__all__ = ["SnmpAgent", "SnmpStartError", "start_snmp"]
