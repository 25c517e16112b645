"""OSC protocol v1 between DAW senders and the renderer (see docs/protocol.md).

- :mod:`bridge.protocol.spec` — the table of addresses, argument names and types
"""
