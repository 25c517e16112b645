"""OSC protocol v1 between DAW senders and the renderer (see docs/protocol.md).

- :mod:`bridge.protocol.spec` — the table of addresses, argument names and types
- :mod:`bridge.protocol.messages` — one frozen value per address (``TransportMessage``…)
- :mod:`bridge.protocol.checks` — validation rules and the drop reasons (``ProtocolError.reason``)
- :mod:`bridge.protocol.decode` — ``decode(datagram)``: pure, socket-free (python-osc parses)
- :mod:`bridge.protocol.encode` — ``encode(message)``: python-osc builds, beats as float64

Sending is :class:`bridge.senders.osc_out.ProtocolSender`; receiving is
:class:`bridge.receiver.Receiver` with :mod:`bridge.clock` and :mod:`bridge.recording`.
"""
