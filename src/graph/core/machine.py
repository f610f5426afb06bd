"""What this process may use of the machine it runs on."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask (taskset, a container's cpuset,
    systemd's ``CPUAffinity``), not every core of the machine as ``os.cpu_count()`` says.

    >>> usable_cores() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1
