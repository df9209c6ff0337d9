"""Where each job sits in a plan, and which jobs moved between two plans (the 'stops moved' of a comparison).

Definition (docs/plan-versions.md): a job has MOVED from plan A to plan B when
- its truck differs (another truck, or served in one plan and unserved in the other, or present in only one plan
  because an order was added or removed between them), or
- it stays on the same truck but out of sequence: for each truck, the jobs it serves in both plans keep their
  longest common subsequence in place, every other one of them counts as moved.
So the count is the fewest jobs a planner would pick up and put down elsewhere to turn A into B: taking one job off
a route moves 1 (its followers keep their order), swapping two neighbours moves 1, reversing a route of n jobs
moves n - 1. Charging-station stops never count.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.solution import RoutingSolution


@dataclass(frozen=True)
class JobPlace:
    truck: str  # vehicle type id: the plate in fleet plans
    position: int  # 1-based rank among the truck's jobs


def placements(solution: RoutingSolution) -> dict[str, JobPlace | None]:
    """job id -> its place; None for a job the plan lists as unserved."""
    out: dict[str, JobPlace | None] = {u.job_id: None for u in solution.unserved}
    for r in solution.routes:
        for k, job in enumerate(r.job_ids, start=1):
            out[job] = JobPlace(r.vehicle_type, k)
    return out


def _lcs(a: list[str], b: list[str]) -> set[str]:
    """Jobs of one longest common subsequence of `a` and `b` (dynamic programme, O(len a * len b))."""
    n, m = len(a), len(b)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            t[i][j] = t[i + 1][j + 1] + 1 if a[i] == b[j] else max(t[i + 1][j], t[i][j + 1])
    keep, i, j = set(), 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            keep.add(a[i])
            i, j = i + 1, j + 1
        elif t[i + 1][j] >= t[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def moved_jobs(a: dict[str, JobPlace | None], b: dict[str, JobPlace | None]) -> list[str]:
    """The jobs that moved from `a` to `b` (see the module docstring), sorted."""
    truck_a = {j: (p.truck if p else None) for j, p in a.items()}
    truck_b = {j: (p.truck if p else None) for j, p in b.items()}
    moved = {j for j in set(a) | set(b) if j not in a or j not in b or truck_a[j] != truck_b[j]}
    stay: dict[str, list[str]] = {}
    for j in set(a) & set(b):
        if j not in moved and truck_a[j] is not None:
            stay.setdefault(truck_a[j], []).append(j)  # type: ignore[arg-type]
    for jobs in stay.values():
        seq_a = sorted(jobs, key=lambda j: a[j].position)  # type: ignore[union-attr]
        seq_b = sorted(jobs, key=lambda j: b[j].position)  # type: ignore[union-attr]
        moved |= set(jobs) - _lcs(seq_a, seq_b)
    return sorted(moved)
