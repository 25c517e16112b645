"""Backends behind one interface (``renderer.backends.base.Backend``), found by name in a registry
(``renderer.backends.registry.BACKENDS``) and loaded lazily.

``embedded`` (default) runs the small model shipped in the package; ``diffusers`` runs any
SD 1.x/2.x/SDXL-family model in diffusers format. Importing this package imports no torch.
"""

from renderer.backends.registry import BACKENDS, backend_class, load_backend

__all__ = ["BACKENDS", "backend_class", "load_backend"]
