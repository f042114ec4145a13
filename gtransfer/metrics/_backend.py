"""Array backends for the metric core: numpy (CPU, scipy LAPACK) and torch (any device).

The metric formulas are written once against this small interface. Arithmetic (``+ * @ .T``,
slicing) is spelled the same in numpy and torch; everything else goes through a backend method.
Inputs stay where they are: a CUDA tensor is scored on its GPU, a numpy array on the CPU with
numpy's BLAS (whose ``A.T @ A`` is a symmetric rank-k update, half the flops of a general product).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, SupportsFloat, TypeAlias, TypeGuard, TypeVar

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    import torch
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

__all__ = ["Array", "Backend", "NumpyBackend", "TorchBackend", "backend_for", "NotPositiveDefiniteError"]

#: What the metric core accepts and computes on: a numpy array (CPU) or a torch tensor (any device).
#: A string, so torch stays an optional import: annotations are never evaluated.
Array: TypeAlias = "np.ndarray | torch.Tensor"

P = ParamSpec("P")
R = TypeVar("R")

#: An array shape as numpy and torch both take it.
Shape: TypeAlias = "int | tuple[int, ...]"


_CONTROLLER: list = []


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Run the enclosed LAPACK factorisations on one BLAS thread.

    Cholesky, eigh and the tridiagonal reduction synchronise their threads once per column block;
    on a machine busier than its cores (measured on 2 shared cores, load 7-8) each synchronisation
    waits for a scheduler slice, and a 1000 x 1000 Cholesky took 0.4-1.3 s instead of 0.01 s. One
    thread loses little where the machine is idle (these factorisations cost far less than the Gram
    product, which keeps every thread). No-op without threadpoolctl."""
    if not _CONTROLLER:
        try:
            import scipy.linalg  # noqa: F401 - load scipy's BLAS first: the controller sees only loaded libraries
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
            _CONTROLLER.append(None)
    controller = _CONTROLLER[0]
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def on_one_blas_thread(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a metric's computation from its statistics: after the Gram product, the work is
    factorisations and products of d x d (or n x n) matrices, which gain little from a second thread
    where the machine is idle and collapse where it is busier than its cores (score_all at n = 1000,
    d = 4096 on 2 shared cores: 14.6x one Gram with 2 threads before; see ``one_blas_thread``)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_blas_thread():
            return function(*args, **kwargs)

    return wrapper


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """A Cholesky factorisation failed: the matrix is singular or indefinite to working precision."""


def _is_torch_tensor(x: object) -> TypeIs[torch.Tensor]:
    # a tensor can only exist once torch is imported: never import it (1-2 s) for numpy input
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def host_view(x: Array, device: object = None) -> Array:
    """A CPU torch tensor as a numpy array sharing its memory (``Tensor.numpy()``: no copy), when it is to be
    scored on the CPU (``device`` None or "cpu"); anything else unchanged.

    numpy's BLAS and LAPACK are the fastest CPU route: torch's float64 Gram product ran 2.2x slower than
    numpy's on the same data (2-core AMD EPYC, one thread). Tensors numpy cannot hold (bfloat16, complex
    views with a conjugate or negative bit) keep the torch backend.
    """
    if not _is_torch_tensor(x) or x.device.type != "cpu" or (device is not None and str(device) != "cpu"):
        return x
    if x.requires_grad or x.is_conj() or x.is_neg() or x.dtype == sys.modules["torch"].bfloat16:
        return x
    return x.numpy()


class Backend:
    """Operations the metric formulas need beyond operator syntax."""

    name = "abstract"

    if TYPE_CHECKING:
        # The two backends share method names, not types: each returns its own array type (np.ndarray or
        # torch.Tensor), which a common signature could only state as ``Array`` and lose. The type checker
        # therefore reads a method reached through ``Backend`` as untyped; the backends' own methods are typed.
        def __getattr__(self, name: str) -> Any: ...


class NumpyBackend(Backend):
    name = "numpy"
    dtype = np.float64

    def asarray(self, x: npt.ArrayLike, dtype: npt.DTypeLike | None = None) -> np.ndarray:
        return np.asarray(x, dtype=dtype or self.dtype)

    def as_int(self, x: npt.ArrayLike) -> np.ndarray:
        return np.asarray(x, dtype=np.int64)

    def to_numpy(self, x: npt.ArrayLike) -> np.ndarray:
        return np.asarray(x)

    def zeros(self, shape: Shape) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    def empty(self, shape: Shape) -> np.ndarray:
        return np.empty(shape, dtype=self.dtype)

    def eye(self, d: int) -> np.ndarray:
        return np.eye(d, dtype=self.dtype)

    def column_sums(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduce(x, axis=0, dtype=np.float64)

    def owns(self, x: object) -> bool:
        """Whether ``x`` lives on this backend (so whole-matrix products need no transfer)."""
        return isinstance(x, np.ndarray)

    def rows(self, x: Array, rows: slice, columns: slice = slice(None)) -> np.ndarray:
        """x[rows, columns] as float64 on this backend: a view when it already is, else one block copy."""
        if _is_torch_tensor(x):
            x = x[rows, columns].cpu().numpy()
            return x.astype(np.float64, copy=False)
        return np.asarray(x[rows, columns], dtype=np.float64)

    def gather(self, x: Array, index: np.ndarray, columns: slice = slice(None)) -> np.ndarray:
        """x[index, columns] (rows gathered) as a new float64 array on this backend."""
        if _is_torch_tensor(x):
            x = x[:, columns].cpu().numpy() if columns != slice(None) else x.cpu().numpy()
            columns = slice(None)
        block = x[:, columns] if columns != slice(None) else x
        if block.dtype == np.float64:
            return np.take(block, index, axis=0)
        return np.take(block, index, axis=0).astype(np.float64)

    def take_rows(self, x: np.ndarray, index: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out[:] = x[index] converted to float64, without a temporary."""
        if not isinstance(x, np.ndarray):
            out[...] = self.gather(x, index)
            return out
        if x.dtype == np.float64:
            # mode="clip" avoids the buffered copy that mode="raise" makes of ``out``; the
            # indices come from an argsort, so they are always in range
            np.take(x, index, axis=0, out=out, mode="clip")
        else:
            out[...] = np.take(x, index, axis=0)
        return out

    def segment_sums(self, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Sums of consecutive row segments beginning at ``starts`` (every segment non-empty).

        A loop of contiguous column sums: ``np.add.reduceat`` along axis 0 is over 10x slower."""
        ends = np.append(starts[1:], x.shape[0])
        out = np.empty((len(starts), x.shape[1]), dtype=x.dtype)
        for i, (start, end) in enumerate(zip(starts, ends)):
            np.add.reduce(x[start:end], axis=0, out=out[i])
        return out

    def row_sq_norms(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", x, x)

    def class_sums(self, x: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
        """Row sums per class, in any row order: a sparse one-hot product, O(nd), no copy of x."""
        import scipy.sparse

        n = labels.size
        onehot = scipy.sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(num_classes, n))
        return np.asarray(onehot @ x)

    # numpy's own LAPACK for factorisations: it shares the BLAS thread pool of the products before
    # it, where scipy's bundled OpenBLAS would start a second pool that spins against the first.
    def cholesky(self, a: np.ndarray) -> np.ndarray:
        lower, info = _lower_cholesky(a)
        if info != 0:
            raise NotPositiveDefiniteError(f"Matrix is not positive definite (leading minor of order {info})")
        return lower

    def solve_lower(self, lower: np.ndarray, rhs: np.ndarray, block: int = 256) -> np.ndarray:
        """L^{-1} B by blocked forward substitution in numpy's own BLAS and LAPACK.

        scipy's ``solve_triangular`` would run in scipy's bundled OpenBLAS, whose threads then spin
        against numpy's (measured: the next Gram product ran 2x slower on 2 cores)."""
        lower = np.asarray(lower)
        solution = np.empty(rhs.shape, dtype=np.float64)
        for start in range(0, lower.shape[0], block):
            end = min(lower.shape[0], start + block)
            right = rhs[start:end] - lower[start:end, :start] @ solution[:start]
            with one_blas_thread():
                solution[start:end] = np.linalg.solve(lower[start:end, start:end], right)
        return solution

    def eigh(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with one_blas_thread():
            return np.linalg.eigh(a)

    def eigvalsh(self, a: np.ndarray) -> np.ndarray:
        with one_blas_thread():
            return np.linalg.eigvalsh(a)

    def eigh_top(self, a: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k largest eigenvalues (ascending) of symmetric ``a`` and their eigenvectors: LAPACK's dsyevr
        on the index range, which skips the back-transformation of the other vectors (d = 1024, k = 64:
        0.36 s against 0.93 s for a full ``eigh``, one thread)."""
        size = a.shape[0]
        if k >= size or 4 * k > size:
            values, vectors = self.eigh(a)
            return values[size - k :], vectors[:, size - k :]
        from scipy.linalg import eigh

        with one_blas_thread():
            return eigh(a, subset_by_index=[size - k, size - 1], driver="evr")

    def eigh_projected(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues of symmetric ``a`` (ascending) and V^T b, V its eigenvectors, without forming V.

        A = Q T Q^T by Householder reduction (LAPACK dsytrd), T = W L W^T by MRRR (dstemr, O(m^2)),
        and V^T b = W^T (Q^T b) with the reflectors applied to b in blocks of 64 (compact WY form).
        This skips the back-transformation of the eigenvectors, the larger half of a full ``eigh``
        (measured at m = 1000: 0.34 s against 0.47 s, one thread). Worth it while b has few columns;
        otherwise (and for m < 3) the full eigendecomposition is used."""
        size, width = a.shape[0], b.shape[1]
        if size < 3 or 4 * width > size:
            values, vectors = self.eigh(a)
            return values, vectors.T @ b
        from scipy.linalg import eigh_tridiagonal, lapack

        lwork = int(lapack.dsytrd_lwork(size, lower=1)[0])
        with one_blas_thread():
            reduced, diagonal, off_diagonal, tau, info = lapack.dsytrd(a, lower=1, lwork=lwork)
        if info != 0:  # pragma: no cover - LAPACK argument errors only
            raise np.linalg.LinAlgError(f"dsytrd failed with info={info}")
        projected = np.array(b, dtype=np.float64)
        _apply_reflectors_transposed(
            reduced, tau, projected
        )  # LAPACK dormqr: 1.2 ms against 2.4 ms for NumPy blocks at m = 512
        values, vectors = eigh_tridiagonal(diagonal, off_diagonal)
        return values, vectors.T @ projected

    def batched_cholesky(self, a: np.ndarray, overwrite: bool = False) -> np.ndarray | None:
        """Cholesky factors of a stack of matrices (..., m, m), or None if any is not positive definite.

        Stacks of small matrices (m < ``_LAPACK_CHOLESKY_SIZE``) in numpy's batched loop; larger ones one
        LAPACK call each (see ``_lower_cholesky``; ``overwrite``: ``a`` is a symmetric scratch array)."""
        if a.ndim == 2 or a.shape[-1] >= _LAPACK_CHOLESKY_SIZE:
            factors = [_lower_cholesky(matrix, overwrite) for matrix in a.reshape(-1, *a.shape[-2:])]
            if any(info != 0 for _, info in factors):
                return None
            return np.stack([lower for lower, _ in factors]).reshape(a.shape)
        try:
            with one_blas_thread():
                return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            return None

    def transpose_last(self, a: np.ndarray) -> np.ndarray:
        return np.swapaxes(a, -1, -2)

    def log1p(self, x: np.ndarray) -> np.ndarray:
        return np.log1p(x)

    def softplus(self, x: np.ndarray) -> np.ndarray:
        """log(1 + e^x) without overflow."""
        return np.logaddexp(0.0, x)

    def one_hot(self, labels: np.ndarray, num_classes: int) -> np.ndarray:
        out = np.zeros((labels.shape[0], num_classes))
        out[np.arange(labels.shape[0]), labels] = 1.0
        return out

    def where(self, condition: np.ndarray, x: np.ndarray, y: np.ndarray | float) -> np.ndarray:
        return np.where(condition, x, y)

    def arange(self, n: int) -> np.ndarray:
        return np.arange(n)

    def diag(self, a: np.ndarray) -> np.ndarray:
        return np.diagonal(a)

    def add_to_diagonal(self, a: np.ndarray, value: float) -> None:
        a.flat[:: a.shape[0] + 1] += value

    def frobenius_sq(self, a: np.ndarray) -> float:
        return float(np.vdot(a, a))  # no temporary, unlike (a * a).sum()

    def concat_columns(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.concatenate([left, right], axis=1)

    log = staticmethod(np.log)
    exp = staticmethod(np.exp)
    sqrt = staticmethod(np.sqrt)
    def maximum(self, x: np.ndarray, floor: float) -> np.ndarray:
        return np.maximum(x, floor)

    def item(self, x: SupportsFloat) -> float:
        return float(x)

    def logsumexp_rows(self, x: np.ndarray) -> np.ndarray:
        """log sum_j exp(x_ij) for each row, shifted by the row's largest entry (no overflow)."""
        top = x.max(axis=1)
        return top + np.log(np.exp(x - top[:, None]).sum(axis=1))

    def svdvals(self, a: np.ndarray) -> np.ndarray:
        """Singular values of a matrix (or a stack of matrices), descending."""
        with one_blas_thread():
            return np.linalg.svd(a, compute_uv=False)

    def solve(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a^{-1} b for a square non-singular ``a`` (LU with partial pivoting)."""
        with one_blas_thread():
            return np.linalg.solve(a, b)


#: From this size up, one LAPACK dpotrf call factors a matrix faster than numpy's batched ``cholesky``.
_LAPACK_CHOLESKY_SIZE = 64


def _lower_cholesky(a: np.ndarray, overwrite: bool = False) -> tuple[np.ndarray, int]:
    """(L, info) with L L^T = a by scipy's LAPACK dpotrf (info > 0: the leading minor of that order is not
    positive). Measured against ``np.linalg.cholesky`` on one BLAS thread: 2.8 ms against 5.1 ms at m = 512,
    18 ms against 31 ms at m = 1000 (2-core AMD EPYC). With ``overwrite`` a symmetric C-ordered ``a`` is
    factored in place as its transpose (the same matrix, in LAPACK's column order): no copy, whose fresh pages
    made a 512 x 512 factorisation 3-4x slower in the statistics pass."""
    from scipy.linalg import lapack

    if a.shape[-1] == 0:
        return np.zeros(a.shape), 0
    with one_blas_thread():
        if overwrite and a.flags.c_contiguous:
            lower, info = lapack.dpotrf(a.T, lower=0, clean=1, overwrite_a=1)  # a's lower triangle, as a.T's upper
            return lower.T, int(info)
        lower, info = lapack.dpotrf(a, lower=1, clean=1)
    return lower, int(info)


def _apply_reflectors_transposed(reduced: np.ndarray, tau: np.ndarray, b: np.ndarray) -> None:
    """b <- Q^T b in place, for Q = H_0 H_1 ... H_{m-2} of dsytrd's lower reduction: H_i = I - tau_i v_i v_i^T,
    v_i zero above row i+1, one at row i+1, ``reduced[i+2:, i]`` below. These are the QR reflectors of
    ``reduced[1:, :-1]`` acting on rows 1.. of b, so LAPACK's dormqr applies them (as dormtr does)."""
    from scipy.linalg import lapack

    if b.shape[0] < 2:
        return
    sub = reduced[1:, :-1]
    with one_blas_thread():
        work, info = lapack.dormqr("L", "T", sub, tau, b[1:], lwork=-1)[1:]
        applied, _, info = lapack.dormqr("L", "T", sub, tau, b[1:], lwork=max(1, int(work[0].real)))
    if info != 0:  # pragma: no cover - LAPACK argument errors only
        raise np.linalg.LinAlgError(f"dormqr failed with info={info}")
    b[1:] = applied


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, device: torch.device) -> None:
        import torch

        self.torch = torch
        self.device = device
        self.dtype = torch.float64

    def asarray(self, x: npt.ArrayLike | torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        return self.torch.as_tensor(x, dtype=dtype or self.dtype, device=self.device)

    def as_int(self, x: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        return self.torch.as_tensor(x, dtype=self.torch.int64, device=self.device)

    def to_numpy(self, x: npt.ArrayLike | torch.Tensor) -> np.ndarray:
        return x.detach().cpu().numpy() if _is_torch_tensor(x) else np.asarray(x)

    def zeros(self, shape: Shape) -> torch.Tensor:
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    def empty(self, shape: Shape) -> torch.Tensor:
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def eye(self, d: int) -> torch.Tensor:
        return self.torch.eye(d, dtype=self.dtype, device=self.device)

    def column_sums(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=0, dtype=self.dtype)

    def owns(self, x: object) -> TypeGuard[torch.Tensor]:
        return _is_torch_tensor(x) and x.device == self.device

    def _to_here(self, block: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
        if _is_torch_tensor(block):
            return block.to(device=self.device, dtype=self.dtype)
        return self.torch.as_tensor(np.asarray(block, dtype=np.float64), device=self.device)

    def rows(self, x: Array, rows: slice, columns: slice = slice(None)) -> torch.Tensor:
        """x[rows, columns] as float64 on this device: a view when it already is, else one block transfer."""
        return self._to_here(x[rows, columns])

    def gather(self, x: Array, index: torch.Tensor | np.ndarray, columns: slice = slice(None)) -> torch.Tensor:
        """x[index, columns] (rows gathered) as a new float64 tensor on this device."""
        if _is_torch_tensor(x):
            if not self.owns(x):
                index = self.torch.as_tensor(self.to_numpy(index), device=x.device)
            elif not _is_torch_tensor(index):
                index = self.as_int(index)
            return self._to_here(x[:, columns].index_select(0, index))
        return self._to_here(np.take(x[:, columns], self.to_numpy(index), axis=0))

    def take_rows(self, x: Array, index: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if not self.owns(x):
            return out.copy_(self.gather(x, index))
        self.torch.index_select(x, 0, index, out=out) if x.dtype == self.dtype else out.copy_(x[index])
        return out

    def segment_sums(self, x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        lengths = self.torch.diff(starts, append=starts.new_tensor([x.shape[0]]))
        segment_ids = self.torch.repeat_interleave(self.torch.arange(len(starts), device=self.device), lengths)
        out = self.torch.zeros((len(starts), x.shape[1]), dtype=x.dtype, device=self.device)
        return out.index_add_(0, segment_ids, x)

    def row_sq_norms(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.einsum("ij,ij->i", x, x)

    def class_sums(self, x: torch.Tensor, labels: np.ndarray, num_classes: int) -> torch.Tensor:
        out = self.torch.zeros((num_classes, x.shape[1]), dtype=x.dtype, device=self.device)
        return out.index_add_(0, self.as_int(labels), x)

    def cholesky(self, a: torch.Tensor) -> torch.Tensor:
        lower, info = self.torch.linalg.cholesky_ex(a)
        if int(info) != 0:
            raise NotPositiveDefiniteError(f"leading minor of order {int(info)} is not positive")
        return lower

    def solve_lower(self, lower: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
        return self.torch.linalg.solve_triangular(lower, rhs, upper=False)

    def eigh(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.torch.linalg.eigh(a)

    def eigvalsh(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.linalg.eigvalsh(a)

    def eigh_top(self, a: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        values, vectors = self.torch.linalg.eigh(a)
        return values[a.shape[0] - k :], vectors[:, a.shape[0] - k :]

    def eigh_projected(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eigenvalues of symmetric ``a`` (ascending) and V^T b, V its eigenvectors."""
        values, vectors = self.torch.linalg.eigh(a)
        return values, vectors.T @ b

    def batched_cholesky(self, a: torch.Tensor, overwrite: bool = False) -> torch.Tensor | None:
        lower, info = self.torch.linalg.cholesky_ex(a)
        return None if bool((info != 0).any()) else lower

    def transpose_last(self, a: torch.Tensor) -> torch.Tensor:
        return a.transpose(-1, -2)

    def log1p(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.log1p(x)

    def softplus(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.logaddexp(self.torch.zeros_like(x), x)

    def one_hot(self, labels: torch.Tensor | np.ndarray, num_classes: int) -> torch.Tensor:
        labels = self.as_int(labels)
        out = self.torch.zeros((labels.shape[0], num_classes), dtype=self.dtype, device=self.device)
        return out.scatter_(1, labels[:, None], 1.0)

    def where(self, condition: torch.Tensor, x: torch.Tensor, y: torch.Tensor | float) -> torch.Tensor:
        return self.torch.where(condition, x, y)

    def arange(self, n: int) -> torch.Tensor:
        return self.torch.arange(n, device=self.device)

    def diag(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.diagonal(a)

    def add_to_diagonal(self, a: torch.Tensor, value: float) -> None:
        self.torch.diagonal(a).add_(value)

    def frobenius_sq(self, a: torch.Tensor) -> float:
        return float((a * a).sum())

    def concat_columns(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        return self.torch.cat([left, right], dim=1)

    def log(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.log(x)

    def exp(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.exp(x)

    def sqrt(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.sqrt(x)

    def maximum(self, x: torch.Tensor, floor: float) -> torch.Tensor:
        return self.torch.clamp(x, min=floor)

    def item(self, x: SupportsFloat) -> float:
        return float(x)

    def logsumexp_rows(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.logsumexp(x, dim=1)

    def svdvals(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.linalg.svdvals(a)

    def solve(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.torch.linalg.solve(a, b)


def backend_for(x: object, device: str | None = None) -> Backend:
    """The backend that computes on ``device``; by default where ``x`` lives (torch tensors on their
    device, anything else numpy). Data on another device is streamed there in blocks. ``check_features``
    hands CPU tensors over as numpy views first (see ``host_view``), so they reach numpy's backend.

    Raises:
        ValueError: ``device`` is not a torch device name, or names CUDA where torch has none.
    """
    if device is None:
        return TorchBackend(x.device) if _is_torch_tensor(x) else NumpyBackend()
    if str(device) == "cpu" and not _is_torch_tensor(x):
        return NumpyBackend()  # numpy's BLAS and LAPACK are the fastest CPU route
    try:
        import torch
    except ImportError:
        raise ValueError(f"device {device!r} needs torch, which is not installed; use device='cpu'") from None
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r} is not a torch device name (cpu, cuda, cuda:1, ...): {error}") from None
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA GPU "
            "(a CPU-only build, or no visible device); use device='cpu'"
        )
    if target.type == "cuda" and target.index is None:
        target = torch.device("cuda", torch.cuda.current_device())
    return TorchBackend(target)
