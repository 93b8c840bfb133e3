"""The share of this machine's CPU time its host took back (steal) while a run lasted.

On a virtual machine, a neighbour busy on the same host takes CPU time the guest
counts as steal: the services then wait without working, and a run's latencies
say more about the host than about ucap. The benchmarks print it next to each run.
"""

from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")


@dataclass(frozen=True)
class CpuTimes:
    """All CPUs' time so far, in clock ticks: in every state, and stolen."""

    total: int
    steal: int

    @classmethod
    def now(cls, source: Path = PROC_STAT) -> "CpuTimes | None":
        """None where the kernel does not say (not Linux)."""
        try:
            first = source.read_text().splitlines()[0].split()
        except (OSError, IndexError):
            return None
        if first[0] != "cpu" or len(first) < 9:
            return None
        # user nice system idle iowait irq softirq steal (guest time is within user).
        ticks = [int(value) for value in first[1:9]]
        return cls(total=sum(ticks), steal=ticks[7])


def steal_share(before: CpuTimes | None, after: CpuTimes | None) -> float | None:
    """The share of the CPU time between the two readings that the host took."""
    if before is None or after is None or after.total <= before.total:
        return None
    return (after.steal - before.steal) / (after.total - before.total)


def share_text(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"
