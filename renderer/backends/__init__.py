"""Backends behind one interface (``renderer.backends.base.Backend``), loaded lazily by name.

``embedded`` (default) runs the small model shipped in the package; ``diffusers`` runs any
SD 1.x/2.x/SDXL-family model in diffusers format. Importing this package imports no torch.
"""

from renderer.backends.base import BACKENDS, backend_class, load_backend

__all__ = ["BACKENDS", "backend_class", "load_backend"]
