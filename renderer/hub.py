"""Models on this machine: short names resolved to the Hugging Face Hub cache, downloads with a progress
bar that resume after an interruption, and one-line errors that say what to do.

The cache is huggingface_hub's (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``~/.cache/huggingface/hub``), so a model fetched by any other tool counts too. Nothing here
reaches the network unless :func:`download` is called and ``HF_HUB_OFFLINE`` is unset.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import InputError
from renderer.catalog import SKIPPED_FILES, CatalogEntry, catalog_entry

#: Pipeline components without weight files.
_WEIGHTLESS = ("scheduler", "tokenizer", "feature_extractor", "safety_checker")


def offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` forbids the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def cache_folder() -> Path:
    """Where huggingface_hub keeps models, read from the environment now (not at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def hub_endpoint() -> tuple[str, int]:
    """Host and port of the Hub (``HF_ENDPOINT``, else huggingface.co): a mirror's own port, else its scheme's."""
    from urllib.parse import urlsplit

    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def hub_reachable(timeout_seconds: float = 3.0) -> bool:
    """Whether the Hub's endpoint accepts a connection (checked once, fast, before any download)."""
    import socket

    try:
        with socket.create_connection(hub_endpoint(), timeout=timeout_seconds):
            return True
    except (OSError, ValueError):  # refused, timed out, unknown host; a port that is no number
        return False


def local_snapshot(entry: CatalogEntry) -> Path | None:
    """The folder of ``entry``'s complete download in the cache, or None (absent or cut short)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(entry.repo_id, allow_patterns=list(entry.files),
                                        ignore_patterns=list(SKIPPED_FILES), cache_dir=cache_folder(),
                                        local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return folder if is_complete(entry, folder) else None


def is_complete(entry: CatalogEntry, folder: Path) -> bool:
    """Whether ``folder`` holds a loadable copy: its index or config, and weights for every component."""
    if entry.kind != "pipeline":
        return all((folder / name).is_file() for name in entry.files)
    index = folder / "model_index.json"
    if not index.is_file():
        return False
    suffix = f".{entry.variant}.safetensors" if entry.variant else ".safetensors"
    weighted = [name for name, value in json.loads(index.read_text()).items()
                if isinstance(value, list) and value[0] is not None and not name.startswith(_WEIGHTLESS)]
    return all(any(p.name.endswith(suffix) for p in (folder / name).glob("*")) for name in weighted)


@dataclass(frozen=True)
class ResolvedModel:
    """What to hand ``from_pretrained``: a folder or Hub id, the weights variant, and the catalog entry if any."""

    source: str
    variant: str | None = None
    entry: CatalogEntry | None = None


def get_command(entry: CatalogEntry) -> str:
    return f"barlight models get {entry.name}"


def resolve_model(model: str) -> ResolvedModel:
    """A short name's downloaded folder (InputError saying how to get it when missing); anything else as given."""
    entry = catalog_entry(model)
    if entry is None:
        return ResolvedModel(model)
    folder = local_snapshot(entry)
    if folder is None:
        raise InputError(model, f"not downloaded yet: run `{get_command(entry)}` ({entry.size_gb:.1f} GB, "
                                f"{entry.repo_id} on the Hugging Face Hub)")
    return ResolvedModel(str(folder), entry.variant, entry)


def download(entry: CatalogEntry) -> Path:
    """Fetch ``entry`` into the cache with a progress bar; an interrupted download resumes when run again.

    Every failure is one :class:`InputError` saying what to do: offline, unreachable, not enough disk,
    a licence to accept on the Hub, or any other Hub error.
    """
    from huggingface_hub import snapshot_download

    done = local_snapshot(entry)
    if done is not None:
        return done
    if offline():
        raise InputError(entry.name, "not downloaded and HF_HUB_OFFLINE is set: unset it (and connect) to download, "
                                     "or copy a Hugging Face cache from another machine into " + str(cache_folder()))
    _check_disk(entry)
    if not hub_reachable():
        raise InputError(entry.name, "cannot reach the Hugging Face Hub: check the network (or HF_ENDPOINT), "
                                     "then run the same command again; what was fetched is kept")
    try:
        folder = snapshot_download(entry.repo_id, allow_patterns=list(entry.files),
                                   ignore_patterns=list(SKIPPED_FILES), cache_dir=cache_folder())
    except Exception as err:  # network, auth and repository errors come in many classes
        raise InputError(entry.name, _download_problem(err)) from None
    return Path(folder)


def _check_disk(entry: CatalogEntry) -> None:
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(folder).free / 1e9
    if free_gb < entry.size_gb * 1.05:
        raise InputError(entry.name, f"needs {entry.size_gb:.1f} GB but {folder} has {free_gb:.1f} GB free: "
                                     f"free some space or point HF_HOME at a bigger disk")


def _download_problem(err: Exception) -> str:
    text = " ".join(str(err).split())[:160]
    name = type(err).__name__
    if name in ("GatedRepoError", "HfHubHTTPError") and ("401" in text or "403" in text or "gated" in text.lower()):
        return f"the Hub asks for a login or a licence to accept: `huggingface-cli login`, accept it on the model page, retry ({text})"
    if name == "RepositoryNotFoundError":
        return f"the Hub has no such repository any more ({text})"
    return f"download stopped ({name}: {text}); run the same command again to resume"


__all__ = ["ResolvedModel", "cache_folder", "download", "hub_endpoint", "hub_reachable", "is_complete", "local_snapshot",
           "offline", "resolve_model"]
