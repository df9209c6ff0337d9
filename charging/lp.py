"""A small sparse LP builder on OR-Tools' model_builder helper (GLOP, PDLP, HiGHS; SCIP for MIPs).

The charging LP has tens of thousands of columns; building it through per-variable Python calls would cost more
than solving it, so columns and rows are added in numpy blocks and handed to OR-Tools as one CSR matrix.

Solvers: "glop" (dual simplex), "pdlp" (first-order, approximate), "highs" (HiGHS, its own choice of method),
"highs-ipm" (HiGHS interior point + crossover to a vertex: on the block-separable charging LP of 5,000 trucks it
is ~10x faster than GLOP, whose simplex grows as n^1.9), and "auto": GLOP below AUTO_IPM_COLUMNS columns or when
row duals are needed, HiGHS IPM above. HiGHS through OR-Tools 9.15 returns wrong row duals (checked against GLOP
on the charging LP), so duals from it are NaN: callers that price slots with duals ask for them (`duals=True`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

INF = float("inf")
SOLVERS = ("auto", "glop", "pdlp", "highs", "highs-ipm")
AUTO_IPM_COLUMNS = (
    60_000  # "auto": HiGHS IPM from here (GLOP ~5 s at 1,000 trucks x 64 slots, IPM wins above)
)


@dataclass(frozen=True)
class LPResult:
    status: str  # optimal | feasible | infeasible | unbounded | not_solved | error
    objective: float
    x: np.ndarray
    duals: np.ndarray
    solve_s: float
    best_bound: float | None = None  # MIP: proven lower bound
    solver: str = ""  # the engine that ran ("auto" resolved)


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

    def engine(self, solver: str, duals: bool = True) -> str:
        """The engine `solve` runs for `solver` ("auto": GLOP when duals are needed or the LP is small)."""
        if solver != "auto":
            return solver
        if duals or self._integer or self.n_vars < AUTO_IPM_COLUMNS:
            return "glop"
        return "highs-ipm"

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
        """Column bounds, objective, row bounds and the constraint matrix (duplicates summed)."""
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
        return lb, ub, obj, rlb, rub, matrix

    def solve(
        self,
        solver: str = "glop",
        time_limit_s: float = 60.0,
        *,
        duals: bool = True,
        mip_gap: float | None = None,
    ) -> LPResult:
        """Solve; `duals=False` lets "auto" pick a solver without trustworthy row duals (HiGHS); `mip_gap`: SCIP
        stops at this relative gap to its own bound."""
        solver = self.engine(solver, duals)
        lb, ub, obj, rlb, rub, matrix = self.arrays()
        helper = mbh.ModelBuilderHelper()
        helper.fill_model_from_sparse_data(lb, ub, obj, rlb, rub, matrix)
        for block in self._integer:
            for j in block:
                helper.set_var_integrality(int(j), True)
        highs = solver in ("highs", "highs-ipm")
        if not highs:  # OR-Tools 9.15 segfaults when HiGHS gets a hint
            for j, value in self._hints.items():
                helper.add_hint(j, value)
        engine = mbh.ModelSolverHelper("highs" if highs else solver)
        if not engine.solver_is_supported():
            raise RuntimeError(f"LP solver {solver!r} is not available in this OR-Tools build")
        if highs:  # HiGHS options, one `name=value` a line; no banner on stdout
            options = ["output_flag=false", "log_to_console=false"]
            if solver == "highs-ipm":
                options += ["solver=ipm", "run_crossover=on"]
            engine.set_solver_specific_parameters("\n".join(options))
        if mip_gap is not None and solver == "scip":
            engine.set_solver_specific_parameters(f"limits/gap = {mip_gap}")
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
            if highs:
                duals = np.full(self.n_rows, np.nan)  # wrong through OR-Tools 9.15: never hand them out
            elif self.n_rows and not self._integer:
                duals = np.asarray(engine.dual_values(), dtype=float)
            else:
                duals = np.zeros(self.n_rows)
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
            solver=solver,
        )
