"""The recommended models: short names (``sd-turbo``) for Hugging Face Hub repositories, with the size
of what ``barlight models get`` downloads, the licence and the GPU memory they need.

Pure data, no torch and no network. A short name works wherever a model is asked for (``--model
sd-turbo`` in preview, export and bench, ``model = "sd-turbo"`` in a preset's ``[backend]`` table);
``renderer.hub`` finds its files in the Hub cache or downloads them. Sizes are parameters times
bytes per parameter of the files fetched (the fp16 variant where the repository has one); the
parameter counts come from the architectures' configs (``renderer.backends.architectures``, checked
by a test). VRAM figures are estimates (fp16 weights plus working memory at the native size) until
``bench/gpu_check.sh`` measures them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Files a diffusers pipeline needs: model_index.json and its component folders; fp16 weights only where the
#: repository has them (fp32 copies would double the download). Checkpoints at the top level are not fetched.
FP16_PIPELINE_FILES = ("model_index.json", "*/*.json", "*/*.txt", "*/*.fp16.safetensors")
PIPELINE_FILES = ("model_index.json", "*/*.json", "*/*.txt", "*/*.safetensors")
SINGLE_MODEL_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
#: Never fetched: Barlight turns the safety checker off (an all-black frame is not a visual).
SKIPPED_FILES = ("safety_checker/*",)


@dataclass(frozen=True)
class CatalogEntry:
    """One recommended model. ``kind`` is ``"pipeline"`` (a whole text-to-image model) or ``"tiny vae"``
    (a TAESD decoder to pair with one); ``variant`` is the weight-file variant fetched (``"fp16"``)."""

    name: str
    repo_id: str
    kind: str
    licence: str
    parameters: int
    bytes_per_parameter: int
    vram_gb: float
    files: tuple[str, ...]
    variant: str | None = None
    architecture: str | None = None
    taesd: str | None = None
    note: str = ""

    @property
    def size_gb(self) -> float:
        """Size on disk of the downloaded files, in GB (10^9 bytes)."""
        return self.parameters * self.bytes_per_parameter / 1e9


_SAI = "Stability AI Community (sai-nc-community: non-commercial; commercial use needs a licence from Stability AI)"

CATALOG: dict[str, CatalogEntry] = {entry.name: entry for entry in (
    CatalogEntry("sd-turbo", "stabilityai/sd-turbo", "pipeline", _SAI,
                 parameters=865_910_724 + 340_387_840 + 83_653_863, bytes_per_parameter=2, vram_gb=4.0,
                 files=FP16_PIPELINE_FILES, variant="fp16", architecture="sd-turbo", taesd="taesd",
                 note="1 step at 512x512; the fastest; the turbo preset"),
    CatalogEntry("sdxl-turbo", "stabilityai/sdxl-turbo", "pipeline", _SAI,
                 parameters=2_567_463_684 + 123_060_480 + 694_659_840 + 83_653_863, bytes_per_parameter=2,
                 vram_gb=10.0, files=FP16_PIPELINE_FILES, variant="fp16", architecture="sdxl-turbo", taesd="taesdxl",
                 note="1 step at 512x512 (also 1024x1024, slower); better prompts; the turbo-xl preset"),
    CatalogEntry("sd15-lcm", "SimianLuo/LCM_Dreamshaper_v7", "pipeline", "MIT",
                 parameters=859_602_884 + 123_060_480 + 83_653_863, bytes_per_parameter=4, vram_gb=4.0,
                 files=PIPELINE_FILES, architecture="sd15-lcm", taesd="taesd",
                 note="SD 1.5 + LCM, 4 steps; open licence"),
    CatalogEntry("taesd", "madebyollin/taesd", "tiny vae", "MIT", parameters=2_445_063, bytes_per_parameter=4,
                 vram_gb=0.1, files=SINGLE_MODEL_FILES, note="fast decoder for SD 1.x/2.x (sd-turbo, sd15-lcm)"),
    CatalogEntry("taesdxl", "madebyollin/taesdxl", "tiny vae", "MIT", parameters=2_445_063, bytes_per_parameter=4,
                 vram_gb=0.1, files=SINGLE_MODEL_FILES, note="fast decoder for SDXL (sdxl-turbo)"),
)}


def catalog_entry(name: str) -> CatalogEntry | None:
    """The entry for short name ``name`` (exact), or None: then ``name`` is a folder or a Hub id."""
    return CATALOG.get(name)
