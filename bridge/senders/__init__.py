"""Senders: programs on the DAW's side that stream protocol v1 to the renderer."""
