"""Barlight's bridge: everything between the DAW and the renderer.

Musical time (:mod:`bridge.timeline`), OSC protocol v1 (:mod:`bridge.protocol`),
the receiver and transport clock, session recording, senders, the audio
feature extractor and writing files whole (:mod:`bridge.files`) live here. Nothing in this package imports torch, Qt or
diffusers, so a sender on the DAW's machine starts fast.
"""
