"""Chinchilla approach 3: L(N, D) = E + A / N^alpha + B / D^beta, fitted to every run of a method.

As in Hoffmann et al. (2022), log L is modelled as LSE(log E, log A - alpha log N, log B - beta log D)
and fitted by minimising a Huber loss (delta 1e-3) of the residuals in log loss, with L-BFGS started
from the best points of a grid. With realistic noise most residuals sit in Huber's linear part, where
L-BFGS stalls near the kinks, so the winner is polished by iteratively reweighted Levenberg-Marquardt;
the same solver, batched, refits every bootstrap resample from the point estimate.

A law is an array `theta[..., 5]` = (log E, log A, log B, alpha, beta).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import scipy.optimize

PARAMS = ("E", "A", "B", "alpha", "beta")
HUBER_DELTA = 1e-3
MIN_SIZES = 3
MIN_BUDGETS = 2
N_STARTS = 16  # L-BFGS runs from the best grid points; the rest of the grid only ranks starts
# Hoffmann et al.'s initialisations over (log E, log A, log B, alpha, beta).
START_GRID = np.array(list(itertools.product(
    np.arange(-1.0, 1.01, 0.5), np.arange(0.0, 26.0, 5.0), np.arange(0.0, 26.0, 5.0),
    np.arange(0.0, 2.01, 0.5), np.arange(0.0, 2.01, 0.5))))
_BOUNDS = [(None, None)] * 3 + [(0.0, None)] * 2  # negative exponents would make loss grow with scale


def named(theta: np.ndarray) -> dict[str, np.ndarray]:
  """{"E", "A", "B", "alpha", "beta"} of a law (or of a batch of laws)."""
  theta = np.asarray(theta)
  return {"E": np.exp(theta[..., 0]), "A": np.exp(theta[..., 1]), "B": np.exp(theta[..., 2]),
          "alpha": theta[..., 3], "beta": theta[..., 4]}


def from_named(E: float, A: float, B: float, alpha: float, beta: float) -> np.ndarray:  # pylint: disable=invalid-name
  return np.array([np.log(E), np.log(A), np.log(B), alpha, beta])


def log_loss(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray) -> np.ndarray:
  """log L(N, D) for laws theta[..., 5] broadcast against log N and log D."""
  return _log_loss_and_weights(theta, log_n, log_d)[0]


def objective(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, y: np.ndarray) -> np.ndarray:
  """The Huber loss (in units of delta) that a law minimises over runs with log loss y."""
  return _huber(log_loss(theta, log_n, log_d) - y)


def check_coverage(n: np.ndarray, d: np.ndarray, label: str) -> None:
  """Raises, saying what is missing, unless the runs can pin down 5 parameters."""
  sizes, budgets, runs = len(np.unique(n)), len(np.unique(d)), len(n)
  missing = [f"{need - have} more {what}" for need, have, what in
             ((MIN_SIZES, sizes, "model size(s)"), (MIN_BUDGETS, budgets, "token budget(s)"),
              (len(PARAMS) + 1, runs, "run(s)")) if have < need]
  if missing:
    raise ValueError(
        f"parametric fit of {label!r} needs at least {MIN_SIZES} model sizes, {MIN_BUDGETS} token budgets and more "
        f"runs than its {len(PARAMS)} parameters; it has {sizes} size(s) (N = {_short(np.unique(n))}), "
        f"{budgets} budget(s) and {runs} run(s): add {', '.join(missing)}")


def fit_law(n: np.ndarray, d: np.ndarray, loss: np.ndarray, label: str = "") -> np.ndarray:
  """The law minimising the Huber loss on log-loss residuals of runs (N, D, loss)."""
  check_coverage(n, d, label)
  if np.any(loss <= 0):
    raise ValueError(f"parametric fit of {label!r}: the metric must be a positive loss, got min {loss.min()}")
  log_n, log_d, y = np.log(n), np.log(d), np.log(loss)
  best = None
  for start in START_GRID[np.argsort(objective(START_GRID, log_n, log_d, y))[:N_STARTS]]:
    result = scipy.optimize.minimize(
        _objective_and_gradient, start, args=(log_n, log_d, y), jac=True, method="L-BFGS-B", bounds=_BOUNDS,
        options={"ftol": 1e-10, "gtol": 1e-6, "maxiter": 5000})  # refit() polishes the winner
    if best is None or result.fun < best.fun:
      best = result
  return refit(best.x, log_n[None], log_d[None], y[None])[0]


def refit(theta0: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, y: np.ndarray, max_iterations: int = 500,
          rtol: float = 1e-12, on_converged: Callable[[int], object] = lambda count: None) -> np.ndarray:
  """Batched IRLS Levenberg-Marquardt on rows of data [B, R] (y = log loss), all from theta0[5].

  `on_converged(count)` is told each time rows finish (a progress bar's update).
  """
  theta = np.tile(theta0, (len(y), 1))
  r, jac = _residuals_and_jacobian(theta, log_n, log_d, y)
  huber = _huber(r)
  damping = np.full(len(y), 1e-3)
  active = np.arange(len(y))  # iterate only on the rows not yet converged: the tail is long and thin
  for _ in range(max_iterations):
    if not len(active):
      break
    # Huber's weights psi(r)/r make the weighted least squares a majoriser of the Huber loss.
    weight = np.minimum(1.0, HUBER_DELTA / np.maximum(np.abs(r[active]), 1e-300))
    weighted_jac = jac[active] * weight[..., None]
    hessian = np.einsum("bri,brj->bij", weighted_jac, jac[active])
    gradient = np.einsum("bri,br->bi", weighted_jac, r[active])
    diagonal = np.einsum("bii->bi", hessian)
    diagonal = damping[active, None] * (diagonal + 1e-9 * diagonal.max(-1, keepdims=True) + 1e-300)
    # pinv, not solve: a parameter the data cannot move (an exponent clamped at 0) leaves the system
    # singular, and that row should take the minimum-norm step rather than stop the whole bootstrap.
    step = -(np.linalg.pinv(hessian + diagonal[..., None] * np.eye(len(PARAMS))) @ gradient[..., None])[..., 0]
    candidate = theta[active] + step
    candidate[:, 3:] = np.maximum(candidate[:, 3:], 0.0)
    r_new, jac_new = _residuals_and_jacobian(candidate, log_n[active], log_d[active], y[active])
    huber_new = _huber(r_new)
    better = huber_new < huber[active]  # False for NaN, so a blow-up is just a rejected step
    converged = better & (huber[active] - huber_new <= rtol * huber[active])
    accepted = active[better]
    theta[accepted], r[accepted], jac[accepted] = candidate[better], r_new[better], jac_new[better]
    huber[accepted] = huber_new[better]
    damping[active] = np.where(better, np.maximum(damping[active] / 3, 1e-12), damping[active] * 4)
    finished = converged | (damping[active] > 1e8)  # no step improves: a minimum to machine precision
    on_converged(int(finished.sum()))
    active = active[~finished]
  on_converged(len(active))  # rows still creeping at max_iterations are done too
  return theta


def _log_loss_and_weights(theta, log_n, log_d):
  theta = np.asarray(theta)
  terms = np.stack(np.broadcast_arrays(
      theta[..., 0, None], theta[..., 1, None] - theta[..., 3, None] * log_n,
      theta[..., 2, None] - theta[..., 4, None] * log_d), axis=-1)
  top = terms.max(-1, keepdims=True)
  exp = np.exp(terms - top)
  total = exp.sum(-1, keepdims=True)
  return (top + np.log(total))[..., 0], exp / total


def _residuals_and_jacobian(theta, log_n, log_d, y):
  prediction, w = _log_loss_and_weights(theta, log_n, log_d)
  jac = np.stack([w[..., 0], w[..., 1], w[..., 2], -w[..., 1] * log_n, -w[..., 2] * log_d], axis=-1)
  return prediction - y, jac


def _huber(r: np.ndarray) -> np.ndarray:
  """Huber loss summed over the last axis, in units of delta (keeps L-BFGS tolerances meaningful)."""
  a = np.abs(r)
  return np.where(a <= HUBER_DELTA, 0.5 * r * r, HUBER_DELTA * (a - 0.5 * HUBER_DELTA)).sum(-1) / HUBER_DELTA


def _objective_and_gradient(theta, log_n, log_d, y):
  r, jac = _residuals_and_jacobian(theta[None], log_n[None], log_d[None], y[None])
  psi = np.clip(r, -HUBER_DELTA, HUBER_DELTA) / HUBER_DELTA
  return _huber(r)[0], (psi[..., None] * jac).sum(1)[0]


def _short(values: np.ndarray) -> str:
  return ", ".join(f"{v:.3g}" for v in values)
