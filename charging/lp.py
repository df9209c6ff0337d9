"""A small sparse LP builder on OR-Tools' model_builder helper (GLOP or PDLP).

The charging LP has tens of thousands of columns; building it through per-variable Python calls would cost more
than solving it, so columns and rows are added in numpy blocks and handed to OR-Tools as one CSR matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

INF = float("inf")


@dataclass(frozen=True)
class LPResult:
    status: str  # optimal | feasible | infeasible | unbounded | not_solved | error
    objective: float
    x: np.ndarray
    duals: np.ndarray
    solve_s: float
    best_bound: float | None = None  # MIP: proven lower bound


class SparseLP:
    """Columns and rows in blocks; `solve` returns primal values and row duals."""

    def __init__(self) -> None:
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._obj: list[np.ndarray] = []
        self.n_vars = 0
        self._rlb: list[np.ndarray] = []
        self._rub: list[np.ndarray] = []
        self.n_rows = 0
        self._ri: list[np.ndarray] = []
        self._ci: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._hints: dict[int, float] = {}

    def add_vars(
        self,
        count: int,
        lb: float | np.ndarray = 0.0,
        ub: float | np.ndarray = INF,
        obj: float | np.ndarray = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        idx = np.arange(self.n_vars, self.n_vars + count)
        if integer:
            self._integer.append(idx)
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (count,)).copy())
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (count,)).copy())
        self._obj.append(np.broadcast_to(np.asarray(obj, dtype=float), (count,)).copy())
        self.n_vars += count
        return idx

    def add_rows(self, count: int, lb: float | np.ndarray = -INF, ub: float | np.ndarray = INF) -> np.ndarray:
        idx = np.arange(self.n_rows, self.n_rows + count)
        self._rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (count,)).copy())
        self._rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (count,)).copy())
        self.n_rows += count
        return idx

    def add_coef(self, rows: np.ndarray | int, cols: np.ndarray | int, values: float | np.ndarray) -> None:
        rows, cols, values = np.broadcast_arrays(
            np.asarray(rows), np.asarray(cols), np.asarray(values, dtype=float)
        )
        self._ri.append(rows.ravel().astype(np.int64))
        self._ci.append(cols.ravel().astype(np.int64))
        self._v.append(values.ravel().astype(float))

    def add_obj(self, cols: np.ndarray, values: float | np.ndarray) -> None:
        """Add to objective coefficients of existing columns."""
        obj = self.objective_vector()
        np.add.at(obj, np.asarray(cols), values)
        self._obj = [obj]

    def hint(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Starting values for a MIP solver."""
        for c, v in zip(np.asarray(cols).ravel(), np.asarray(values, dtype=float).ravel()):
            self._hints[int(c)] = float(v)

    @property
    def n_integer(self) -> int:
        return int(sum(len(i) for i in self._integer))

    def objective_vector(self) -> np.ndarray:
        return np.concatenate(self._obj) if self._obj else np.zeros(0)

    def solve(self, solver: str = "glop", time_limit_s: float = 60.0) -> LPResult:
        lb = np.concatenate(self._lb) if self._lb else np.zeros(0)
        ub = np.concatenate(self._ub) if self._ub else np.zeros(0)
        obj = self.objective_vector()
        rlb = np.concatenate(self._rlb) if self._rlb else np.zeros(0)
        rub = np.concatenate(self._rub) if self._rub else np.zeros(0)
        ri = np.concatenate(self._ri) if self._ri else np.zeros(0, dtype=np.int64)
        ci = np.concatenate(self._ci) if self._ci else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self._v) if self._v else np.zeros(0)
        matrix = sp.csr_matrix((vals, (ri, ci)), shape=(self.n_rows, self.n_vars))
        matrix.sum_duplicates()
        helper = mbh.ModelBuilderHelper()
        helper.fill_model_from_sparse_data(lb, ub, obj, rlb, rub, matrix)
        for block in self._integer:
            for j in block:
                helper.set_var_integrality(int(j), True)
        if solver != "highs":  # OR-Tools 9.15 segfaults when HiGHS gets a hint
            for j, value in self._hints.items():
                helper.add_hint(j, value)
        engine = mbh.ModelSolverHelper(solver)
        if not engine.solver_is_supported():
            raise RuntimeError(f"LP solver {solver!r} is not available in this OR-Tools build")
        engine.set_time_limit_in_seconds(max(0.1, float(time_limit_s)))
        engine.solve(helper)
        status = engine.status()
        names = {
            mbh.SolveStatus.OPTIMAL: "optimal",
            mbh.SolveStatus.FEASIBLE: "feasible",
            mbh.SolveStatus.INFEASIBLE: "infeasible",
            mbh.SolveStatus.UNBOUNDED: "unbounded",
            mbh.SolveStatus.NOT_SOLVED: "not_solved",
        }
        name = names.get(status, "error")
        if engine.has_solution():
            x = np.asarray(engine.variable_values(), dtype=float)
            duals = (
                np.asarray(engine.dual_values(), dtype=float)
                if self.n_rows and not self._integer
                else np.zeros(self.n_rows)
            )
            objective = float(engine.objective_value())
        else:
            x, duals, objective = np.zeros(self.n_vars), np.zeros(self.n_rows), float("nan")
        bound = None
        if self._integer and engine.has_response():
            bound = float(engine.best_objective_bound())
        return LPResult(
            status=name,
            objective=objective,
            x=x,
            duals=duals,
            solve_s=float(engine.wall_time()),
            best_bound=bound,
        )
