"""OSC protocol v1 between DAW senders and the renderer (see docs/protocol.md).

- :mod:`bridge.protocol.spec` — the table, the single source: one row per address (fields, types, ranges)
- :mod:`bridge.protocol.messages` — one frozen value per row, made from it (``TransportMessage``…)
- :mod:`bridge.protocol.checks` — the checks rows name and the drop reasons (``ProtocolError.reason``)
- :mod:`bridge.protocol.decode` — ``decode(datagram)``: pure, socket-free (python-osc parses), by the row
- :mod:`bridge.protocol.encode` — ``encode(message)``: python-osc builds, by the row, beats as float64

Sending is :class:`bridge.senders.osc_out.ProtocolSender`; receiving is
:class:`bridge.receiver.Receiver` with :mod:`bridge.clock` and :mod:`bridge.recording`.
"""
