"""The ``barlight`` command line: one entry point over the bridge and the renderer."""

__version__ = "0.1.0"
