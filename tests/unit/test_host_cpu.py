"""The benchmarks' host steal: the share of CPU time the host took between two readings."""

from pathlib import Path

from host_cpu import CpuTimes, share_text, steal_share


def stat_file(folder: Path, name: str, line: str) -> Path:
    path = folder / name
    path.write_text(f"{line}\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    return path


def test_the_share_is_steal_over_all_time_between_the_readings(tmp_path: Path) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice
    before = CpuTimes.now(stat_file(tmp_path, "a", "cpu  100 0 50 800 10 0 5 35 0 0"))
    after = CpuTimes.now(stat_file(tmp_path, "b", "cpu  160 0 70 880 10 0 5 75 20 0"))

    assert before == CpuTimes(total=1000, steal=35)
    assert after == CpuTimes(total=1200, steal=75)
    assert steal_share(before, after) == 0.2
    assert share_text(steal_share(before, after)) == "20%"


def test_unknown_where_the_kernel_does_not_say(tmp_path: Path) -> None:
    missing = CpuTimes.now(tmp_path / "none")
    other = CpuTimes.now(stat_file(tmp_path, "c", "intr 1 2 3"))

    assert missing is None
    assert other is None
    assert steal_share(missing, CpuTimes(total=10, steal=1)) is None
    assert share_text(None) == "n/a"
