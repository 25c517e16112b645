"""The diffusers backend's stream path: few-step denoising written as tensor maths, for stream speed.

A plain diffusers pipeline call re-checks its inputs, rebuilds the scheduler's timesteps,
encodes the feedback image with the VAE and copies the result to the host, every frame. Here a
frame is one fixed sequence of tensor operations on the device, so it can be compiled and
captured as a CUDA graph, and the img2img feedback stays in latent space:

- the timesteps are ``steps`` points from ``1000 * strength`` down (trailing spacing, as SD-Turbo
  and LCM sample), so a frame always costs ``steps`` UNet evaluations, whatever the strength;
- the start is ``sqrt(abar) * x0_previous + sqrt(1 - abar) * noise`` (txt2img: ``x0_previous = 0``
  at ``t = 999``), each step predicts ``x0`` (epsilon, v or sample prediction; LCM's boundary
  condition for an LCMScheduler) and re-noises it with the frame's own walked noise
  (StreamDiffusion's "stock noise": deterministic, and smooth from frame to frame);
- **stream batch** (``stream_batch``, multi-step models): the ``steps`` denoising steps of the last
  ``steps`` frames run as one batched UNet call, so a frame costs one UNet call; the picture then
  comes out ``steps - 1`` frames after its request (:attr:`StreamDenoiser.frames_late`);
- **CUDA graphs** (``cuda_graphs``, CUDA only): one captured graph per input shape replays the
  whole frame (UNet steps and decode) with one launch; elsewhere the same function runs eagerly.

Everything here is a pure function of its tensors, except the stream-batch slots and the graphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from renderer.transfer import to_device

#: LCM's boundary-condition data standard deviation.
LCM_SIGMA_DATA = 0.5
#: Columns of a schedule row: timestep, sqrt(abar), sqrt(1 - abar), LCM c_skip, c_out, and the next row's a, b.
T, A, B, C_SKIP, C_OUT, A_NEXT, B_NEXT = range(7)


@dataclass(frozen=True)
class StreamOptions:
    """How the stream path runs: ``steps`` per frame, and the switchable techniques."""

    steps: int = 1
    guidance_scale: float = 0.0
    stream_batch: bool = False
    cuda_graphs: bool = True
    compile: bool = False


def timesteps_for(steps: int, strength: float, train_steps: int = 1000) -> list[int]:
    """``steps`` timesteps from ``train_steps * strength`` down, evenly spaced (trailing), each >= 0."""
    return [min(train_steps - 1, max(0, round(train_steps * strength * (steps - i) / steps) - 1)) for i in range(steps)]


def schedule_rows(alphas_cumprod: Any, timesteps: list[int], lcm_scaling: float | None) -> Any:
    """The (steps, 7) float32 schedule for ``timesteps``: see the column constants."""
    import torch

    rows = []
    for t in timesteps:
        abar = float(alphas_cumprod[t])
        c_skip, c_out = 0.0, 1.0
        if lcm_scaling is not None:
            scaled = t * lcm_scaling
            c_skip = LCM_SIGMA_DATA ** 2 / (scaled ** 2 + LCM_SIGMA_DATA ** 2)
            c_out = scaled / math.sqrt(scaled ** 2 + LCM_SIGMA_DATA ** 2)
        rows.append([float(t), math.sqrt(abar), math.sqrt(1.0 - abar), c_skip, c_out, 0.0, 0.0])
    for i in range(len(rows) - 1):
        rows[i][A_NEXT], rows[i][B_NEXT] = rows[i + 1][A], rows[i + 1][B]
    return torch.tensor(rows, dtype=torch.float32)


class CudaGraphs:
    """``fn`` replayed from one captured CUDA graph per input signature: inputs are copied into the
    graph's own tensors, outputs cloned out (the next replay overwrites them)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self._graphs: dict[tuple, tuple[Any, list[Any], tuple[Any, ...]]] = {}

    def __call__(self, *tensors: Any) -> tuple[Any, ...]:
        key = tuple((tuple(t.shape), t.dtype) for t in tensors)
        if key not in self._graphs:
            self._graphs[key] = self._capture(tensors)
        graph, inputs, outputs = self._graphs[key]
        for static, value in zip(inputs, tensors):
            static.copy_(value)
        graph.replay()
        return tuple(out.clone() for out in outputs)

    def _capture(self, tensors: tuple[Any, ...]) -> tuple[Any, list[Any], tuple[Any, ...]]:
        import torch

        inputs = [t.clone() for t in tensors]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up outside the graph: lazy initialisation, compilation
            for _ in range(3):
                self.fn(*inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs = self.fn(*inputs)
        return graph, inputs, outputs


class StreamDenoiser:
    """A pipeline's UNet, VAE (or TAESD) and scheduler constants, run as the stream path.

    ``denoiser(noise, init_x0, strength, cond)`` -> ``(image, x0)``: ``image`` an HxWx3 float32 tensor
    in 0..1 on the device, ``x0`` the denoised latents (the next frame's feedback). ``cond`` holds
    ``embeds`` (and ``pooled`` for SDXL), batch 2 (negative first) when guidance is on.
    """

    def __init__(self, pipe: Any, options: StreamOptions, device: str, dtype: Any) -> None:
        import torch

        self.unet, self.vae, self.options, self.device, self.dtype = pipe.unet, pipe.vae, options, device, dtype
        scheduler = pipe.scheduler
        self.alphas_cumprod = scheduler.alphas_cumprod.double().cpu()
        self.train_steps = int(scheduler.config.num_train_timesteps)
        self.prediction = scheduler.config.get("prediction_type", "epsilon")
        self.lcm_scaling = float(scheduler.config.timestep_scaling) if type(scheduler).__name__ == "LCMScheduler" else None
        self.vae_dtype = next(self.vae.parameters()).dtype
        self.sdxl = self.unet.config.get("addition_embed_type") == "text_time"
        self.vae_scale = int(getattr(pipe, "vae_scale_factor", 8))
        self._time_ids: dict[tuple[int, ...], Any] = {}
        self.guided = options.guidance_scale > 1.0 and not self.unet.config.get("time_cond_proj_dim")
        self.timestep_cond = None
        if self.unet.config.get("time_cond_proj_dim"):  # LCM-distilled: guidance is an embedding, not a batch
            w = torch.tensor([max(options.guidance_scale, 1.0) - 1.0])
            self.timestep_cond = pipe.get_guidance_scale_embedding(
                w, embedding_dim=self.unet.config.time_cond_proj_dim).to(device, dtype)
        if options.compile:  # static shapes: one compilation per frame size, guarded, no recompiles per frame
            self.unet = torch.compile(self.unet, dynamic=False)
            self._decode = torch.compile(self._decode, dynamic=False)
        self.batched = options.stream_batch and options.steps > 1
        self._slots: tuple[Any, ...] | None = None
        self._frame = self._frame_fn
        self._step = self._stream_step
        if options.cuda_graphs and str(device).startswith("cuda"):
            self._frame, self._step = CudaGraphs(self._frame_fn), CudaGraphs(self._stream_step)

    @property
    def frames_late(self) -> int:
        """How many calls later a request's picture comes out (stream batch: ``steps - 1``)."""
        return self.options.steps - 1 if self.batched else 0

    @property
    def techniques(self) -> dict[str, bool]:
        """Which techniques are in force on this device (CUDA graphs are CUDA-only)."""
        return {"stream_batch": self.batched, "cuda_graphs": isinstance(self._frame, CudaGraphs),
                "compile": self.options.compile}

    def reset(self) -> None:
        """Forget the stream-batch frames in flight."""
        self._slots = None

    # -- the maths -----------------------------------------------------------------------

    def _eps(self, x: Any, t: Any, embeds: Any, pooled: Any) -> Any:
        """The UNet's prediction for latents ``x`` (n, ...) at timesteps ``t`` (n,), with per-item
        ``embeds`` (n, B, 77, D) and ``pooled`` (n, B, P), B = 2 (negative, positive) under guidance."""
        import torch

        n = x.shape[0]
        if self.guided:
            x, t = torch.cat([x, x]), torch.cat([t, t])
            embeds, pooled = torch.cat([embeds[:, 0], embeds[:, 1]]), torch.cat([pooled[:, 0], pooled[:, 1]])
        else:
            embeds, pooled = embeds[:, -1], pooled[:, -1]
        added = None
        if self.sdxl:
            added = {"text_embeds": pooled, "time_ids": self._size_ids(x).expand(x.shape[0], 6)}
        cond = None if self.timestep_cond is None else self.timestep_cond.expand(x.shape[0], -1)
        out = self.unet(x.to(self.dtype), t, encoder_hidden_states=embeds, added_cond_kwargs=added,
                        timestep_cond=cond, return_dict=False)[0].float()
        if self.guided:
            negative, positive = out[:n], out[n:]
            out = negative + self.options.guidance_scale * (positive - negative)
        return out

    def _size_ids(self, x: Any) -> Any:
        """SDXL's size conditioning (original size, crop, target size) for latents ``x``; made once per size,
        before any graph capture (a host-to-device copy cannot be captured)."""
        import torch

        key = tuple(x.shape[-2:])
        if key not in self._time_ids:
            height, width = (self.vae_scale * s for s in key)
            self._time_ids[key] = torch.tensor([height, width, 0, 0, height, width], device=x.device, dtype=self.dtype)
        return self._time_ids[key]

    def _x0(self, x: Any, eps: Any, rows: Any) -> Any:
        """Denoised latents from a prediction at the (n, 7) schedule ``rows``."""
        a, b = rows[:, A, None, None, None], rows[:, B, None, None, None]
        if self.prediction == "v_prediction":
            x0 = a * x - b * eps
        elif self.prediction == "sample":
            x0 = eps
        else:
            x0 = (x - b * eps) / a
        return rows[:, C_OUT, None, None, None] * x0 + rows[:, C_SKIP, None, None, None] * x

    def _steps(self, x: Any, noise: Any, schedule: Any, embeds: Any, pooled: Any, count: int) -> list[Any]:
        """``count`` steps one after another from noisy ``x``: ``[x0, x_next]`` after each."""
        out = []
        for i in range(count):
            rows = schedule[i:i + 1]
            x0 = self._x0(x, self._eps(x, rows[:, T], embeds[None], pooled[None]), rows)
            x = rows[:, A_NEXT, None, None, None] * x0 + rows[:, B_NEXT, None, None, None] * noise
            out.append((x0, x))
        return out

    def _decode(self, x0: Any) -> Any:
        scale = float(self.vae.config.get("scaling_factor", 1.0))
        image = self.vae.decode((x0 / scale).to(self.vae_dtype), return_dict=False)[0]
        return (image[0].float() / 2 + 0.5).clamp(0.0, 1.0).permute(1, 2, 0)

    def _frame_fn(self, noise: Any, init: Any, schedule: Any, embeds: Any, pooled: Any) -> tuple[Any, Any]:
        """One frame, its steps one after another: ``(image, x0)``."""
        x = schedule[0, A] * init + schedule[0, B] * noise
        x0 = self._steps(x, noise, schedule, embeds, pooled, schedule.shape[0])[-1][0]
        return self._decode(x0), x0

    def _stream_step(self, noise: Any, init: Any, schedule: Any, embeds: Any, pooled: Any,
                     slot_x: Any, slot_noise: Any, slot_schedules: Any, slot_embeds: Any, slot_pooled: Any
                     ) -> tuple[Any, ...]:
        """One batched UNet call: the new frame's first step and the next step of each frame in flight.

        Slot ``j`` holds the frame ``j + 1`` calls old at its step ``j + 1``; the oldest finishes now.
        Returns the finished ``(image, x0)`` and the next slots' latents and noise."""
        import torch

        rows = torch.cat([schedule[:1]] + [slot_schedules[j, j + 1:j + 2] for j in range(slot_x.shape[0])])
        x = torch.cat([schedule[0, A] * init + schedule[0, B] * noise, slot_x])
        noises = torch.cat([noise, slot_noise])
        x0 = self._x0(x, self._eps(x, rows[:, T], torch.cat([embeds[None], slot_embeds]),
                                   torch.cat([pooled[None], slot_pooled])), rows)
        renoised = rows[:, A_NEXT, None, None, None] * x0 + rows[:, B_NEXT, None, None, None] * noises
        return self._decode(x0[-1:]), x0[-1:], renoised[:-1], noises[:-1]

    # -- a frame -------------------------------------------------------------------------

    def __call__(self, noise: Any, init_x0: Any, strength: float, cond: dict[str, Any]) -> tuple[Any, Any]:
        import torch

        timesteps = timesteps_for(self.options.steps, strength if init_x0 is not None else 1.0, self.train_steps)
        schedule = to_device(schedule_rows(self.alphas_cumprod, timesteps, self.lcm_scaling), self.device)
        init = torch.zeros_like(noise) if init_x0 is None else init_x0.float()
        embeds = cond["embeds"]
        pooled = cond.get("pooled")
        if pooled is None:  # SD 1.x/2.x have no pooled embedding; the UNet ignores this
            pooled = torch.zeros(embeds.shape[0], 1, device=embeds.device, dtype=embeds.dtype)
        if not self.batched:
            return self._frame(noise, init, schedule, embeds, pooled)
        if self._slots is None:
            self._slots = self._prime(noise, init, schedule, embeds, pooled)
        slot_schedules, slot_embeds, slot_pooled = self._slots[2:]
        image, x0, slot_x, slot_noise = self._step(noise, init, schedule, embeds, pooled, *self._slots)
        self._slots = (slot_x, slot_noise, torch.cat([schedule[None], slot_schedules])[:-1],
                       torch.cat([embeds[None], slot_embeds])[:-1], torch.cat([pooled[None], slot_pooled])[:-1])
        return image, x0

    def _prime(self, noise: Any, init: Any, schedule: Any, embeds: Any, pooled: Any) -> tuple[Any, ...]:
        """Slots holding this frame at steps 1..n-1, so the first pictures show it rather than noise."""
        import torch

        slots = self.options.steps - 1
        x = schedule[0, A] * init + schedule[0, B] * noise
        states = [x_next for _, x_next in self._steps(x, noise, schedule, embeds, pooled, slots)]
        return (torch.cat(states), noise.expand(slots, *noise.shape[1:]).clone(),
                schedule[None].expand(slots, *schedule.shape).clone(),
                embeds[None].expand(slots, *embeds.shape).clone(), pooled[None].expand(slots, *pooled.shape).clone())

    def encode(self, image: Any) -> Any:
        """Latents (1, 4, h, w) of an HxWx3 0..1 image (numpy or tensor), through the VAE's encoder."""
        import torch

        pixels = torch.as_tensor(image, device=self.device).float().permute(2, 0, 1)[None] * 2.0 - 1.0
        out = self.vae.encode(pixels.to(self.vae_dtype), return_dict=False)[0]
        latents = out if isinstance(out, torch.Tensor) else out.mode()  # TAESD: latents; AutoencoderKL: a distribution
        return latents.float() * float(self.vae.config.get("scaling_factor", 1.0))
