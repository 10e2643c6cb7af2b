"""Benchmarks: commands that print figures (speed, memory, scale), never timed tests."""

from __future__ import annotations

import resource

__all__ = ["memory_mb"]


def memory_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory, in MB.

    Without /proc, the peak from ``getrusage`` (Linux: kB).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
