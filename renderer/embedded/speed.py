"""CPU speed for the embedded model: the same maths with less overhead.

At the embedded model's size a UNet call is mostly Python and dispatch overhead (hundreds of
small layers on a 16 x 16 grid), so :class:`TracedUNet` runs a TorchScript trace of it, frozen
(constants folded), one per input shape: faster on one CPU thread, identical output.
TorchScript is deprecated in favour of ``torch.compile``, which on a CPU needs a C++ compiler that
most users' machines lack; when it goes, ``torch.export`` is the replacement to try.
"""

from __future__ import annotations

import torch
from torch import nn


class _Forward(nn.Module):
    """The UNet as a function of tensors only (what tracing needs)."""

    def __init__(self, unet: nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, tokens: torch.Tensor,
                pooled: torch.Tensor) -> torch.Tensor:
        return self.unet(sample, timestep, encoder_hidden_states=tokens, class_labels=pooled, return_dict=False)[0]


class TracedUNet:
    """``unet(sample, t, tokens, pooled)`` through a frozen trace per (shapes, dtype, device); inference only.

    The traces hold the weights as they were when traced: call :meth:`clear` after changing them.
    """

    def __init__(self, unet: nn.Module) -> None:
        self.unet = unet
        self._traces: dict[tuple, torch.jit.ScriptModule] = {}

    def clear(self) -> None:
        self._traces.clear()

    def __call__(self, sample: torch.Tensor, timestep: torch.Tensor | int, tokens: torch.Tensor,
                 pooled: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(sample.shape[0]).contiguous()
        key = (tuple(sample.shape), tuple(tokens.shape), tuple(pooled.shape), sample.dtype, str(sample.device))
        trace = self._traces.get(key)
        if trace is None:
            import warnings

            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                warnings.simplefilter("ignore", DeprecationWarning)  # torch.compile needs a C++ compiler on a CPU
                module = _Forward(self.unet).eval()
                trace = torch.jit.freeze(torch.jit.trace(module, (sample.clone(), t.clone(), tokens.clone(),
                                                                  pooled.clone()), check_trace=False))
            self._traces[key] = trace
        return trace(sample, t, tokens, pooled)


__all__ = ["TracedUNet"]
