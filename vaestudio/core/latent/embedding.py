"""t-SNE and UMAP maps of a D-dimensional cloud: pictures of who is near whom, with no inverse.

A coordinate pair or the PCA plane (projection.py) maps every view point back to a latent
vector; these maps do not: a place between two embedded points stands for no code at all. So
the map's `to_latent` answers with the code of the nearest *real* point in the map, and
`to_view` places a code where its nearest real code sits. Both are exact for the encoded points
themselves, which is all the window shows.

Above `DEFAULT_MAX_POINTS` codes a seeded random subset is embedded (t-SNE on 10,000 codes took
about a minute on two busy cores); every other code is placed on its nearest embedded neighbour
in latent space, so the whole cloud still shows and every point's colour still means its label.

Both libraries are optional (`pip install 'vaestudio[maps]'`): openTSNE (it pulls in
scikit-learn) and umap-learn (numba; its first run JIT-compiles for many seconds).

- t-SNE runs in the calling thread: openTSNE calls back every `CALLBACK_EVERY` iterations, which
  reports progress and stops the optimisation when `cancel()` turns true.
- UMAP has no such hook, so it runs in a child process ("spawn": a fresh interpreter, safe from a
  thread of a Qt program) that is terminated on cancel. It reports no progress of its own, only
  that it is running. (In a frozen app it fits in the calling thread; cancel then drops the result.)
"""
from __future__ import annotations

import importlib.util
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..errors import Cancelled, VaeStudioError

METHODS = ("tsne", "umap")
TITLES = {"tsne": "t-SNE", "umap": "UMAP"}
PACKAGES = {"tsne": "openTSNE", "umap": "umap"}  # what is imported
DISTRIBUTIONS = {"tsne": "openTSNE", "umap": "umap-learn"}  # what pip installs
INSTALL_COMMAND = "pip install 'vaestudio[maps]'"
DEFAULT_MAX_POINTS = 5_000
MAX_POINTS_LIMIT = 50_000
DEFAULT_ITERATIONS = 500  # t-SNE's main phase (openTSNE's default); early exaggeration takes half as many
CALLBACK_EVERY = 10  # t-SNE iterations between progress reports (and cancel checks)
POLL_S = 0.05  # how often the UMAP wait looks at cancel()
_CHUNK = 2048  # query rows per block in nearest-neighbour searches

ProgressFn = Callable[[int, int, str], None]  # (done, total, text); total 0: no measure of progress
CancelFn = Callable[[], bool]


class MapUnavailable(VaeStudioError):
    """The package a map needs is not installed."""


def available(method: str) -> bool:
    """Whether `method`'s package can be imported (without importing it: umap pulls in numba)."""
    name = PACKAGES[_check_method(method)]
    if name in sys.modules:
        return sys.modules[name] is not None  # None: blocked (how tests hide a package)
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_message(method: str) -> str:
    """What to tell a user whose install lacks `method`'s package."""
    method = _check_method(method)
    return (f"{TITLES[method]} maps need the optional package {DISTRIBUTIONS[method]}: "
            f"install it with {INSTALL_COMMAND}")


@dataclass(frozen=True, eq=False)
class MapProjection:
    """A t-SNE or UMAP map of `codes`, answering the calls the window makes of a `Projection`.

    `points[i]` is where code i is drawn; `embedded` lists the rows the method itself placed
    (all of them unless the cloud was subsampled)."""

    kind: str  # "tsne" or "umap"
    codes: np.ndarray  # float32 (N, D): every code of the cloud
    points: np.ndarray  # float32 (N, 2)
    embedded: np.ndarray  # int64 (M,) rows embedded by the method
    seed: int = 0
    params: dict = field(default_factory=dict)
    has_inverse = False  # class attribute: planes have one (`getattr(p, "has_inverse", True)`)

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def subsampled(self) -> bool:
        return len(self.embedded) < len(self.codes)

    def nearest_row(self, view_point) -> int:
        """The row of the code drawn nearest `view_point` (ties: the lowest row)."""
        d = self.points - np.asarray(view_point, dtype=np.float32).reshape(2)
        return int(np.einsum("ij,ij->i", d, d).argmin())

    def to_latent(self, points) -> np.ndarray:
        """(N, 2) or (2,) map points -> float32 codes of the real points drawn nearest them.
        Not an inverse (a map has none): places between points give their neighbour's code."""
        p = np.asarray(points, dtype=np.float32)
        rows = nearest_rows(p.reshape(-1, 2), self.points)
        z = self.codes[rows].astype(np.float32)
        return z[0] if p.ndim == 1 else z

    def to_view(self, z) -> np.ndarray:
        """(N, D) or (D,) codes -> where their nearest codes of the cloud are drawn (exact for the
        cloud's own codes)."""
        z = np.asarray(z, dtype=np.float32)
        rows = nearest_rows(z.reshape(-1, self.latent_dim), self.codes)
        p = self.points[rows].astype(np.float64)
        return p[0] if z.ndim == 1 else p

    def axis_labels(self) -> tuple[str, str]:
        return f"{self.title} 1", f"{self.title} 2"

    def describe(self) -> str:
        """One line for a status bar: what was embedded and what hovering does."""
        n, m = len(self.codes), len(self.embedded)
        what = (f"{self.title} map of {m:,} of {n:,} codes (seed {self.seed}; the rest sit on their nearest)"
                if self.subsampled else f"{self.title} map of {n:,} codes")
        return f"{what} · no inverse: hovering decodes the nearest real point's code"


def nearest_rows(queries, refs, cancel: Optional[CancelFn] = None) -> np.ndarray:
    """int64 (Q,): for each row of `queries` the row of `refs` nearest it (Euclidean; ties: the
    lowest row). Blocks of `_CHUNK` queries, so 200,000 x 5,000 never builds one huge matrix."""
    q = np.asarray(queries, dtype=np.float32)
    r = np.asarray(refs, dtype=np.float32)
    out = np.empty(len(q), dtype=np.int64)
    if len(q) == 1:  # the hover path: the exact differences, the way the explorer measures
        d = r - q[0]
        out[0] = int(np.einsum("ij,ij->i", d, d).argmin())
        return out
    r2 = np.einsum("ij,ij->i", r, r)
    for start in range(0, len(q), _CHUNK):
        if cancel is not None and cancel():
            raise Cancelled("the map was cancelled")
        block = q[start:start + _CHUNK]
        d = r2[None, :] - 2.0 * (block @ r.T)  # |q|^2 is the same along a row
        out[start:start + len(block)] = d.argmin(axis=1)
    return out


def subsample_rows(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted rows to embed: all `n`, or a seeded random `max_points` of them."""
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_points, replace=False)).astype(np.int64)


def embed(codes, method: str, *, seed: int = 0, progress: Optional[ProgressFn] = None,
          cancel: Optional[CancelFn] = None, max_points: int = DEFAULT_MAX_POINTS,
          iterations: Optional[int] = None) -> MapProjection:
    """Map `codes` (N, D) to 2-D with t-SNE or UMAP. `iterations`: t-SNE's main phase (default
    `DEFAULT_ITERATIONS`) or UMAP's epochs (default: umap-learn's own). Raises `MapUnavailable`
    without the package and `Cancelled` when `cancel()` turns true."""
    method = _check_method(method)
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise VaeStudioError("a map needs (N, D) codes with D of 2 or more")
    if not np.isfinite(codes).all():
        raise VaeStudioError("the codes hold NaN or infinite values: there is nothing to map")
    if not 10 <= int(max_points) <= MAX_POINTS_LIMIT:
        raise VaeStudioError(f"max_points must be in 10..{MAX_POINTS_LIMIT:,}, not {max_points}")
    if iterations is not None and not 1 <= int(iterations) <= 10_000:
        raise VaeStudioError(f"iterations must be in 1..10,000, not {iterations}")
    n = len(codes)
    if n < 5:
        raise VaeStudioError(f"a {TITLES[method]} map needs at least 5 codes, not {n}")
    progress = progress or (lambda done, total, text: None)
    cancel = cancel or (lambda: False)
    rows = subsample_rows(n, int(max_points), int(seed))
    x = codes[rows]
    if float(np.ptp(x, axis=0).max()) <= 1e-12:
        raise VaeStudioError(f"the codes are all the same: a {TITLES[method]} map of them would show nothing")
    if method == "tsne":
        placed, params = _tsne(x, int(seed), iterations, progress, cancel)
    else:
        placed, params = _umap(x, int(seed), iterations, progress, cancel)
    if cancel():
        raise Cancelled("the map was cancelled")
    placed = np.asarray(placed, dtype=np.float32).reshape(len(rows), 2)
    if not np.isfinite(placed).all():
        raise VaeStudioError(f"{TITLES[method]} gave no usable map of these codes (they are nearly all the same)")
    if len(rows) == n:
        points = placed
    else:
        progress(0, 0, "Placing the codes not embedded on their nearest neighbours...")
        points = placed[nearest_rows(codes, x, cancel)]
    return MapProjection(kind=method, codes=codes, points=np.ascontiguousarray(points), embedded=rows,
                         seed=int(seed), params={**params, "max_points": int(max_points)})


# -- t-SNE ---------------------------------------------------------------------------------
def _tsne(x: np.ndarray, seed: int, iterations: Optional[int], progress: ProgressFn, cancel: CancelFn):
    try:
        from openTSNE import TSNE
        from openTSNE.affinity import MultiscaleMixture
        from openTSNE.nearest_neighbors import Annoy, Sklearn
    except ImportError as e:
        raise MapUnavailable(missing_message("tsne")) from e
    n_iter = int(iterations or DEFAULT_ITERATIONS)
    early = max(n_iter // 2, 1)
    total = n_iter + early
    # openTSNE lowers a perplexity too high for N itself, with a warning; choose one it accepts.
    perplexity = float(min(30.0, max((len(x) - 1) / 3.0, 1.0)))
    done = [0]

    def callback(iteration, _error, _embedding) -> bool:
        # Called with the iteration number within the current phase (early exaggeration, then
        # the main one); returning True makes openTSNE raise OptimizationInterrupt, which fit()
        # catches, returning the embedding so far: `embed` then raises Cancelled.
        done[0] += CALLBACK_EVERY
        progress(min(done[0], total), total, f"t-SNE: iteration {min(done[0], total)} of {total}")
        return bool(cancel())

    progress(0, total, "t-SNE: finding each code's neighbours...")
    # The neighbour index openTSNE's "auto" picks (exact below 1,000 points, else Annoy), built
    # here: left to itself openTSNE imports pynndescent merely to see whether it is installed,
    # and that import (numba) took 7.7 s of a 8.2 s first map on 300 points.
    data = x.astype(np.float64)
    k = min(len(x) - 1, int(3 * perplexity))
    index = (Sklearn if len(x) < 1000 else Annoy)(data, k, random_state=seed)
    affinities = MultiscaleMixture(perplexities=[perplexity], knn_index=index, random_state=seed)
    if cancel():
        raise Cancelled("the map was cancelled")
    tsne = TSNE(n_components=2, perplexity=perplexity, n_iter=n_iter, early_exaggeration_iter=early,
                random_state=seed, n_jobs=1, callbacks=callback, callbacks_every_iters=CALLBACK_EVERY,
                verbose=False)
    embedding = tsne.fit(data, affinities=affinities)
    if cancel():
        raise Cancelled("the map was cancelled")
    progress(total, total, "t-SNE: done")
    return np.asarray(embedding), {"perplexity": perplexity, "iterations": n_iter}


# -- UMAP ----------------------------------------------------------------------------------
def _umap(x: np.ndarray, seed: int, iterations: Optional[int], progress: ProgressFn, cancel: CancelFn):
    if not available("umap"):
        raise MapUnavailable(missing_message("umap"))
    n_neighbors = int(min(15, len(x) - 1))
    if getattr(sys, "frozen", False):
        # A frozen app (PyInstaller) would start itself again as the "spawn" child unless its
        # entry point calls multiprocessing.freeze_support(); fit here instead, and on cancel
        # drop the result when the fit ends.
        progress(0, 0, "UMAP: running (Cancel takes effect when it ends)")
        return _umap_fit(x, seed, n_neighbors, iterations), {"n_neighbors": n_neighbors, "iterations": iterations}
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_umap_child, args=(send, x, seed, n_neighbors, iterations), daemon=True,
                        name="vaestudio-umap")
    progress(0, 0, "UMAP: starting its process (the first run compiles for a while)...")
    child.start()
    send.close()  # the child holds its own end: a dead child then reads as EOF here
    started = time.monotonic()
    try:
        while not receive.poll(POLL_S):
            if cancel():
                raise Cancelled("the map was cancelled")
            if not child.is_alive() and not receive.poll(0):
                raise VaeStudioError(f"UMAP's process ended without a result (exit code {child.exitcode})")
            progress(0, 0, f"UMAP: running, {time.monotonic() - started:.0f} s (Cancel stops its process)")
        try:
            status, payload = receive.recv()
        except EOFError:
            raise VaeStudioError(f"UMAP's process ended without a result (exit code {child.exitcode})") from None
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)
        receive.close()
    if status != "ok":
        raise VaeStudioError(f"UMAP failed: {payload}")
    return payload, {"n_neighbors": n_neighbors, "iterations": iterations}


def _umap_child(conn, x, seed, n_neighbors, iterations) -> None:
    """The child process's work: fit UMAP and send ("ok", (N, 2)) or ("error", text)."""
    try:
        import warnings

        warnings.filterwarnings("ignore")  # "n_jobs overridden by random_state": expected
        conn.send(("ok", _umap_fit(x, seed, n_neighbors, iterations)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent as text
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


def _umap_fit(x, seed, n_neighbors, iterations) -> np.ndarray:
    import umap

    kwargs = {"n_epochs": int(iterations)} if iterations else {}
    y = umap.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=seed, n_jobs=1, **kwargs).fit_transform(x)
    return np.asarray(y, dtype=np.float32)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise VaeStudioError(f"unknown map {method!r}: choose one of {', '.join(METHODS)}")
    return method
