"""The backend registry: a name -> ``"module:Class"`` table, each module imported on first use.

Adding a backend is one file in ``renderer/backends/`` (a :class:`~renderer.backends.base.Backend`
subclass and its config dataclass) plus one row in :data:`BACKENDS`. A preset then selects it with
``[backend] name = "..."``, the command line with ``--backend`` or ``$BARLIGHT_BACKEND``.
Backend modules import torch and model libraries inside their methods, so reading a preset
(which checks its ``[backend]`` table with the backend class) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.registry import load_entry

if TYPE_CHECKING:
    from renderer.backends.base import Backend

#: Backend name -> "module:Class".
BACKENDS: dict[str, str] = {
    "embedded": "renderer.backends.embedded:EmbeddedBackend",
    "diffusers": "renderer.backends.diffusers:DiffusersBackend",
}
#: The backend of a preset without a ``[backend]`` table.
DEFAULT_BACKEND = "embedded"
#: Environment variable naming the backend to use instead of the preset's (like ``--backend``).
BACKEND_ENV = "BARLIGHT_BACKEND"


def backend_class(name: str, where: str = "--backend") -> type[Backend]:
    """The Backend class registered as ``name`` (imports its module now); InputError naming ``where``."""
    return load_entry(BACKENDS, name, "backend", where)


def load_backend(name: str, **settings: Any) -> Backend:
    """Build backend ``name`` from keyword settings (the fields of its config)."""
    return backend_class(name)(**settings)
