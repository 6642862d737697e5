"""Where jobs run: this process, a local process pool, Dask or Ray.

``iter_results(fn, items, ...)`` yields ``fn(item)`` for every item as the results complete.
``fn`` and the items must be picklable (module-level function, frozen dataclasses). Every engine
runs ``fn`` with one BLAS/torch thread per worker (``limit_threads``): the workers are the
parallelism. Dask and Ray are optional and imported only when chosen.

Existing clusters: ``address`` (the sweep's ``--address``, or the environment variables
COMPACT_PROOFS_DASK_SCHEDULER / COMPACT_PROOFS_RAY_ADDRESS) connects to a running Dask scheduler
(``tcp://HOST:PORT``) or Ray cluster (``HOST:PORT`` or ``auto``) instead of starting a local one.
The jobs carry file paths, not data: every worker must see the same absolute paths (a shared
filesystem) and import the same compact-proofs code. A cluster that cannot be reached is a
one-line SweepError naming the address.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from extract.errors import SweepError

EXECUTORS: tuple[str, ...] = ("local", "dask", "ray")
CONNECT_TIMEOUT_S = 15.0  # how long to try reaching an existing Dask scheduler


class WorkerDied(SweepError):
    """A local worker process ended abnormally (SIGKILL, out of memory); the sweep stops cleanly."""


def limit_threads() -> None:
    """One BLAS/torch thread in this process: workers are the parallelism."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    """fn(item) with one thread; a module-level function, so every engine can ship it."""
    limit_threads()
    return fn(item)


def iter_results(fn: Callable[[Any], Any], items: Sequence[Any], executor: str, jobs: int,
                 address: str | None = None) -> Iterator[Any]:
    """fn(item) for every item, yielded as they complete, on the chosen executor.

    local: this process when jobs == 1, else a ProcessPoolExecutor of ``jobs`` spawned workers;
    dask: a dask.distributed Client (``address`` of a running scheduler, or a LocalCluster of
    ``jobs`` single-threaded worker processes); ray: ray.init(address or local with ``jobs`` CPUs).
    """
    if not items:
        return iter(())
    if executor == "local":
        return _iter_local(fn, items, jobs)
    if executor == "dask":
        return _iter_dask(fn, items, jobs, address)
    if executor == "ray":
        return _iter_ray(fn, items, jobs, address)
    raise SweepError(f"--executor: {executor!r}; expected {', '.join(EXECUTORS[:-1])} or {EXECUTORS[-1]}")


def _iter_local(fn, items, jobs):
    if jobs <= 1:
        for item in items:
            yield _apply(fn, item)
        return
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=limit_threads)
    try:
        pending = {pool.submit(_apply, fn, item) for item in items}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    yield f.result()
                except BrokenProcessPool:
                    raise WorkerDied("a worker process died (killed from outside, or out of memory); "
                                     "finished rows are kept in the journal: rerun the same command to resume") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _iter_dask(fn, items, jobs, address):
    try:
        from dask.distributed import Client, LocalCluster, as_completed  # optional dependency
    except ImportError:
        raise SweepError("--executor dask: dask.distributed is not installed; "
                         "pip install 'compact-proofs[dask]' (or dask[distributed])") from None
    address = address or os.environ.get("COMPACT_PROOFS_DASK_SCHEDULER")
    cluster = None
    if address:
        client = _connect_dask(Client, address)
    else:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(_apply, [fn] * len(items), list(items), pure=False)
        for f in as_completed(futures):
            yield f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect_dask(client_cls: Any, address: str) -> Any:
    """A dask.distributed Client of the scheduler at ``address``; SweepError (one line) if unreachable."""
    try:
        return client_cls(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise SweepError(f"--address {address}: cannot connect to a Dask scheduler within {CONNECT_TIMEOUT_S:g} s "
                         f"({_first_line(e)})") from None


def _connect_ray(ray: Any, address: str) -> None:
    """ray.init on the running cluster at ``address``; SweepError (one line) if unreachable."""
    try:
        ray.init(address=address, log_to_driver=False)
    except (OSError, RuntimeError, TimeoutError, ValueError) as e:
        raise SweepError(f"--address {address}: cannot connect to a Ray cluster ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _iter_ray(fn, items, jobs, address):
    try:
        import ray  # optional dependency
    except ImportError:
        raise SweepError("--executor ray: ray is not installed; pip install 'compact-proofs[ray]' (or ray)") from None
    address = address or os.environ.get("COMPACT_PROOFS_RAY_ADDRESS")
    started = False
    if not ray.is_initialized():
        if address:
            _connect_ray(ray, address)
        else:
            ray.init(num_cpus=max(1, jobs), include_dashboard=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_apply)
        refs = [remote.remote(fn, item) for item in items]
        while refs:
            done, refs = ray.wait(refs, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()
