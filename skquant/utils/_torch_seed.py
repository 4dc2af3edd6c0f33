"""Seed torch for one block of work without touching its global random state."""

from __future__ import annotations

import contextlib

__all__ = ["seeded_torch"]


@contextlib.contextmanager
def seeded_torch(torch, seed: int, cuda_devices=None):
    """Fork torch's RNG state, seed the forked generators, restore on exit.

    Parameters
    ----------
    torch : module
        The imported ``torch`` (passed in so this module never imports it).
    seed : int
        Seed of the CPU generator and of each forked CUDA device.
    cuda_devices : list of int, default=None
        CUDA devices whose state is forked and seeded; None means every
        visible device (none without CUDA).

    Examples
    --------
    >>> import torch
    >>> from skquant.utils._torch_seed import seeded_torch
    >>> before = torch.random.get_rng_state()
    >>> with seeded_torch(torch, 0):
    ...     a = torch.rand(2)
    >>> with seeded_torch(torch, 0):
    ...     b = torch.rand(2)
    >>> bool((a == b).all()), bool((torch.random.get_rng_state() == before).all())
    (True, True)
    """
    if cuda_devices is None:
        cuda_devices = (
            list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
        )
    with torch.random.fork_rng(devices=cuda_devices):
        # seed only the generators forked above: global state is untouched
        torch.random.default_generator.manual_seed(seed)
        for index in cuda_devices:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield
