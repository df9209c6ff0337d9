"""Interval columns for connector sharing: a Dantzig-Wolfe lower bound and the integer master over its columns.

The plain LP relaxation lets a truck hold a fraction of a connector in a slot, so a truck that needs 3.5 slots of
full power takes 3.5 connector-slots; on a real connector it holds 4 (one contiguous plug-in interval, one truck per
connector and slot). When connectors are scarce that rounding is the whole gap between the LP bound and any plan
(200 trucks on 30 connectors: 4-5 %). Here each truck chooses a convex combination of *columns* -- one connector kind,
one interval [start, end), a power profile inside it -- so contiguity and whole connector-slots are kept per truck
and only the choice between trucks is relaxed (Dantzig & Wolfe 1960; Desrosiers & Luebbecke, "A primer in column
generation", 2005). Pricing a truck is exact and vectorised: for every interval, the cheapest slots at the current
slot prices filled at full power, plus the interval's connector-slot prices.

The bound reported is Lagrangian, recomputed from the master's duals and the whole model (every site column at its
best bound, every truck at its best column over *all* intervals): it is valid at every iteration, whatever the LP
solver's tolerances, not only at convergence. Applies to charging-only trucks without taper on connectors without
cabinet groups; elsewhere the caller keeps the plain LP bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from charging.lp import SparseLP


@dataclass(frozen=True)
class Column:
    """One truck on one connector kind over slots [start, end), grid-side power `power` [kW] in those slots."""

    vehicle: int
    kind: int
    start: int
    end: int
    power: np.ndarray
    shortfall_kwh: float


@dataclass(frozen=True)
class Truck:
    """What pricing needs of a truck: its index, usable slots, need and room [kWh], and per candidate connector kind
    (kind, kW, efficiency)."""

    index: int
    first: int
    last: int
    need_kwh: float
    room_kwh: float
    kinds: tuple[tuple[int, float, float], ...]
    weight: float = 1.0  # multiplier of the shortfall penalty (charging.fairness "max_ready")


@dataclass(frozen=True)
class ColumnBound:
    bound: float | None  # Lagrangian lower bound on the sharing problem's objective (no fairness term)
    master: float | None  # restricted master LP value (>= the Dantzig-Wolfe bound)
    columns: list[Column]
    weights: list[float]  # master weight of each column
    iterations: int
    seconds: float


class Windows:
    """Sorted slot prices of every interval of the night, once per pricing round (shared by all trucks).

    `sorted[s, e - 1, j]` is the j-th cheapest price in [s, e) (0 past the interval's end) and `cumsum` its running
    sum: n^3 numbers (64 slots: 262,144), so a truck's pricing is a slice, not a sort.
    """

    def __init__(self, pi: np.ndarray) -> None:
        self.pi = pi
        self._cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    def get(self, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
        """Sorted prices and running sums with every price capped at `ceiling`."""
        if ceiling not in self._cache:
            p = np.minimum(self.pi, ceiling)
            n = len(p)
            k = np.arange(n)
            slot = k[:, None, None] + k[None, None, :]
            inside = slot < k[None, :, None] + 1
            w = np.where(inside, p[np.minimum(slot, n - 1)], np.inf)
            w.sort(axis=2)
            finite = np.where(np.isfinite(w), w, 0.0)
            self._cache[ceiling] = (finite, np.cumsum(finite, axis=2))
        return self._cache[ceiling]


def price_truck(
    truck: Truck, windows: Windows, mu: np.ndarray, dt: float, penalty: float
) -> tuple[float, Column | None]:
    """Cheapest column of one truck at slot prices `windows.pi` [objective per kW in the slot] and connector-slot
    prices `mu[kind, slot]` (>= 0); returns (reduced cost without the convexity dual, column), None = not plugged.

    Exact over every kind and interval: inside [s, e) the cheapest slots at full power deliver the need (the last
    one partly), the rest is shortfall at `penalty` per kWh. A slot price below zero could pay a truck to take more
    than its need: then the value is lowered by what the negative slots could earn at full power, so it stays a
    lower bound.
    """
    penalty = penalty * truck.weight
    best_value, best = penalty * truck.need_kwh, None
    a, b = truck.first, truck.last
    length = b - a
    if length <= 0 or truck.need_kwh <= 1e-9:
        return (0.0 if truck.need_kwh <= 1e-9 else best_value), None
    raw = windows.pi[a:b]
    k = np.arange(length)
    n_slots = k[None, :] + 1 - k[:, None]  # interval [s, e) length, row s, column e - 1
    valid = n_slots > 0
    n_slots = np.maximum(n_slots, 0)
    neg_extra = float(np.minimum(raw, 0.0).sum())  # what negative prices could still pay per kW (lower bound)
    for kind, kw, eff in truck.kinds:
        if kw <= 0 or eff <= 0:
            continue
        # A slot dearer than the shortfall it saves is as good as not charging there: capped, the fill below is
        # the exact minimum (the column may then charge in it, which only makes the column dearer than priced).
        ceiling = penalty * eff * dt
        finite, csum = windows.get(ceiling)
        finite, csum = finite[a:b, a:b, :length], csum[a:b, a:b, :length]
        units = truck.need_kwh / (eff * dt * kw)  # slots of full power the need takes
        cap = np.minimum(n_slots.astype(float), truck.room_kwh / (eff * dt * kw))
        x = np.minimum(units, cap)  # slots of full power delivered
        m = np.clip(np.floor(x + 1e-12).astype(int), 0, length)
        frac = np.clip(x - m, 0.0, 1.0)
        full = np.where(
            m > 0, np.take_along_axis(csum, np.clip(m - 1, 0, length - 1)[..., None], 2)[..., 0], 0.0
        )
        part = np.take_along_axis(finite, np.clip(m, 0, length - 1)[..., None], 2)[..., 0]
        energy_cost = kw * (full + np.where(m < n_slots, frac * part, 0.0))
        short = np.maximum(0.0, truck.need_kwh - x * eff * dt * kw)
        mu_c = np.concatenate(([0.0], np.cumsum(mu[kind, a:b])))
        mu_sum = mu_c[k[None, :] + 1] - mu_c[k[:, None]]
        value = energy_cost + penalty * short + mu_sum
        if neg_extra < 0:
            value = value + kw * neg_extra
        value = np.where(valid, value, np.inf)
        flat = int(np.argmin(value))
        s, e1 = divmod(flat, length)
        v = float(value.flat[flat])
        if v < best_value - 1e-12:
            e = e1 + 1
            order = np.argsort(np.minimum(raw[s:e], ceiling), kind="stable")
            power = np.zeros(e - s)
            left = float(x[s, e1])
            for o in order:
                take = min(1.0, left)
                if take <= 1e-12:
                    break
                power[o] = take * kw
                left -= take
            best_value = v
            best = Column(truck.index, kind, a + s, a + e, power, float(short[s, e1]))
    return best_value, best


def column_bound(
    trucks: Sequence[Truck],
    capacity: Sequence[int],
    site: Callable[[], tuple[SparseLP, np.ndarray]],
    start: Sequence[Column],
    dt: float,
    penalty: float,
    deadline: float,
    *,
    implied_ub: float,
    rel_tol: float = 2e-4,
    max_iterations: int = 200,
) -> ColumnBound:
    """Column generation on the sharing problem; `site()` gives a fresh LP of the site alone and its balance rows
    (vehicle power enters them with coefficient -1). `start` columns seed the master (e.g. a plan's intervals).

    `implied_ub` [kW] bounds every site column without an upper bound (the peak, the open demand piece) in the
    Lagrangian: no optimum has a peak above the base load plus every vehicle and the battery at full power, so
    the bound stays valid and finite when a solver leaves such a column a reduced cost of -1e-12.
    """
    t0 = time.perf_counter()
    n_kinds = len(capacity)
    columns: list[Column] = list(start)
    seen = {_key(c) for c in columns}
    best_bound: float | None = None
    master_value: float | None = None
    weights: list[float] = []
    iterations = 0
    center: tuple[np.ndarray, np.ndarray] | None = None  # duals of the best bound (rows, convexity)
    while iterations < max_iterations and time.perf_counter() < deadline:
        iterations += 1
        lp, balance, cap_rows, conv, idle, lam = _master(trucks, capacity, site, columns, penalty)
        res = lp.solve("glop", max(0.5, deadline - time.perf_counter()))
        if res.status != "optimal":
            break
        master_value = res.objective
        weights = [float(w) for w in res.x[lam]]
        lb, ub, obj, rlb, rub, matrix = lp.arrays()
        keep = np.ones(lp.n_rows, dtype=bool)
        keep[conv] = False
        site_cols = np.ones(lp.n_vars, dtype=bool)
        site_cols[idle] = False
        site_cols[lam] = False
        y_now = _signed(res.duals, keep, rlb, rub)
        nu_now = res.duals[conv]
        added = 0
        # Wentges smoothing: price at a mix of the best-bound duals and the master's, which cuts the rounds;
        # when the mix finds no column, price at the master's own duals (then none means converged).
        smooth = center is not None and len(center[0]) == len(y_now)
        for alpha in (SMOOTHING, 0.0) if smooth else (0.0,):
            y, nu = (
                (y_now, nu_now)
                if alpha == 0.0
                else (
                    alpha * center[0] + (1.0 - alpha) * y_now,
                    alpha * center[1] + (1.0 - alpha) * nu_now,
                )
            )
            bound, found = _lagrangian(
                y,
                nu,
                balance,
                cap_rows,
                n_kinds,
                site_cols,
                lb,
                ub,
                obj,
                rlb,
                rub,
                matrix,
                trucks,
                dt,
                penalty,
                implied_ub,
            )
            if np.isfinite(bound) and (best_bound is None or bound > best_bound):
                best_bound, center = bound, (y, nu)
            for col in found:
                key = _key(col)
                if key not in seen:
                    seen.add(key)
                    columns.append(col)
                    added += 1
            if added:
                break
        if center is None or len(center[0]) != len(y_now):
            center = (y_now, nu_now)
        if not added or (
            best_bound is not None and master_value - best_bound <= rel_tol * max(1.0, abs(master_value))
        ):
            break
    return ColumnBound(
        bound=best_bound,
        master=master_value,
        columns=columns,
        weights=weights + [0.0] * (len(columns) - len(weights)),
        iterations=iterations,
        seconds=time.perf_counter() - t0,
    )


_DEBUG = bool(__import__("os").environ.get("CGDEBUG"))
SMOOTHING = 0.5
MIP_GAP = 1e-4  # the MIP over the columns stops within 0.01 % of its own bound (the gap goal is 1 %)  # weight of the best-bound duals in the pricing duals (Wentges 1997)


def _signed(y: np.ndarray, keep: np.ndarray, rlb: np.ndarray, rub: np.ndarray) -> np.ndarray:
    """Row duals with the convexity rows dropped and each sign one its row can take (>= rows >= 0, <= rows <= 0),
    so the Lagrangian below is a valid bound whatever the solver's tolerances."""
    y = np.where(keep, y, 0.0)
    y = np.where((y > 0) & ~np.isfinite(rlb), 0.0, y)
    return np.where((y < 0) & ~np.isfinite(rub), 0.0, y)


def _lagrangian(
    y,
    nu,
    balance,
    cap_rows,
    n_kinds,
    site_cols,
    lb,
    ub,
    obj,
    rlb,
    rub,
    matrix,
    trucks,
    dt,
    penalty,
    implied_ub,
) -> tuple[float, list[Column]]:
    """Lagrangian bound at row duals `y` (convexity rows kept as constraints) and the columns of negative reduced
    cost there. Every site column at its better bound, every truck at its best column over all intervals."""
    n = len(balance)
    row_part = float(np.sum(np.where(y > 0, y * np.where(np.isfinite(rlb), rlb, 0.0), 0.0)))
    row_part += float(np.sum(np.where(y < 0, y * np.where(np.isfinite(rub), rub, 0.0), 0.0)))
    d = obj - matrix.T @ y
    j = np.flatnonzero(site_cols)
    dj = d[j]
    lo = np.where(np.isfinite(lb[j]), lb[j], -np.inf)
    hi = np.where(np.isfinite(ub[j]), ub[j], implied_ub)
    pos = dj > 0
    if np.any(pos & ~np.isfinite(lo)):
        return -np.inf, []
    col_part = float(
        np.sum(np.where(pos, dj * np.where(pos, lo, 0.0), 0.0)) + np.sum(np.where(dj < 0, dj * hi, 0.0))
    )
    windows = Windows(y[balance])
    mu = np.maximum(-y[cap_rows], 0.0).reshape(n_kinds, n)
    truck_part = 0.0
    found = []
    for i, tr in enumerate(trucks):
        value, col = price_truck(tr, windows, mu, dt, penalty)
        truck_part += min(value, penalty * tr.weight * tr.need_kwh)
        if col is not None and value < nu[i] - 1e-7 * max(1.0, abs(value)):
            found.append(col)
    return row_part + col_part + truck_part, found


def _key(col: Column) -> tuple:
    """Same truck, kind, interval and power profile (to 1 W): one interval may carry several profiles."""
    return (col.vehicle, col.kind, col.start, col.end, tuple(np.round(col.power, 3)))


def _master(
    trucks: Sequence[Truck],
    capacity: Sequence[int],
    site: Callable[[], tuple[SparseLP, np.ndarray]],
    columns: Sequence[Column],
    penalty: float,
    integer: bool = False,
):
    """The master: the site LP, one convex combination of columns (or idle, all short) per truck, at most
    `capacity[kind]` columns of a kind plugged in per slot."""
    lp, balance = site()
    n = len(balance)
    cap_rows = lp.add_rows(n * len(capacity), ub=np.repeat(np.asarray(capacity, dtype=float), n))
    conv = lp.add_rows(len(trucks), lb=1.0, ub=1.0)
    idle = lp.add_vars(
        len(trucks), 0.0, 1.0, penalty * np.array([t.weight * t.need_kwh for t in trucks]), integer=integer
    )
    lp.add_coef(conv, idle, 1.0)
    lam = lp.add_vars(
        len(columns),
        0.0,
        1.0,
        penalty * np.array([trucks[c.vehicle].weight * c.shortfall_kwh for c in columns]),
        integer=integer,
    )
    rows, cols, vals = [], [], []
    for col, c in zip(lam, columns):
        t = np.arange(c.start, c.end)
        rows += [balance[t], cap_rows[c.kind * n + t], [conv[c.vehicle]]]
        cols += [np.full(len(t), col), np.full(len(t), col), [col]]
        vals += [-c.power, np.ones(len(t)), [1.0]]
    if columns:
        lp.add_coef(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
    return lp, balance, cap_rows, conv, idle, lam


def integer_master(
    trucks: Sequence[Truck],
    capacity: Sequence[int],
    site: Callable[[], tuple[SparseLP, np.ndarray]],
    columns: Sequence[Column],
    hint: Sequence[int],
    penalty: float,
    time_limit_s: float,
    solver: str = "scip",
) -> tuple[dict[int, Column] | None, str]:
    """One column (or idle) per truck, the master's constraints kept, by a MIP over the generated columns
    ("price and branch"); `hint` indexes the columns of a known plan. Returns {truck: column} and the status."""
    lp, _, _, _, _, lam = _master(trucks, capacity, site, columns, penalty, integer=True)
    chosen = np.zeros(len(columns))
    chosen[list(hint)] = 1.0
    lp.hint(lam, chosen)
    res = lp.solve(solver, time_limit_s, mip_gap=MIP_GAP)
    if res.status not in ("optimal", "feasible"):
        return None, res.status
    out = {}
    for k in np.flatnonzero(res.x[lam] > 0.5):
        out[columns[k].vehicle] = columns[k]
    return out, res.status
