"""Barlight's renderer: musical moments in, audio-conditioned diffusion frames out.

Imports nothing heavy at package import; torch and diffusers load with the backends.
"""
