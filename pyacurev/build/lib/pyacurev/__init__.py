"""pyacurev: Accuenergy AcuRev 2020 sub-meters over Modbus TCP, without Home Assistant.

The model: one register table (``registers``, mirrored by ``data/register-map.csv``) in which
every address carries its provenance; a planner that turns it into few, legal reads; codecs
that refuse the words a meter sends when it has no value; a client that reads a whole
``Snapshot`` per poll and degrades per block when a meter answers differently from the table;
``probe``, which reports block by block what a real meter answers. ``points`` is the
point catalogue and ``keys`` the point-key grammar that Home Assistant, the BACnet/SNMP bridge
and the Node-RED palette share; ``energy_guard`` and ``ring`` hold the counter and ring
logic. The console script is ``acurev`` (also ``python -m pyacurev``).
"""

__version__ = "0.2.0"
