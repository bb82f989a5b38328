"""A sweep on an existing Dask cluster: ``assocsim sweep ... --scheduler tcp://HOST:PORT``.

:func:`run_sweep` takes any :class:`concurrent.futures.Executor`; a
``distributed.Client(address).get_executor()`` is one, so nothing here runs a sweep: it
only connects to the scheduler (``dask[distributed]``, the optional extra ``cluster``,
imported only when asked for) and turns every way of failing into one
:class:`~scenarios.ScenarioError` line a user can act on.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import re
from collections.abc import Iterator

import attrs

from scenarios._model._errors import ScenarioError

__all__ = ["CLUSTER_INSTALL_HINT", "CONNECT_TIMEOUT", "Cluster", "connect_cluster"]

CLUSTER_INSTALL_HINT = "pip install 'assocsim[cluster]'"
CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler before giving up

_ADDRESS = re.compile(r"(tcp|tls|inproc|ws|wss|ucx)://\S+")


@attrs.frozen
class Cluster:
    """A connected cluster: the executor a sweep maps its runs over, and its threads."""

    address: str
    executor: concurrent.futures.Executor
    threads: int  # the workers' threads when connected: what sweep.json records as jobs


@contextlib.contextmanager
def connect_cluster(address: str, *, timeout: float | None = None) -> Iterator[Cluster]:
    """Connect to the Dask scheduler at ``address`` (``tcp://HOST:PORT``) for a sweep.

    Raises :class:`ScenarioError` without dask, for an address not of that form, when the
    scheduler cannot be reached within ``timeout`` seconds (default
    :data:`CONNECT_TIMEOUT`), or has no worker by then; and when the cluster fails while
    the sweep runs in the ``with`` block (a lost scheduler or worker: Dask's errors,
    connection errors, cancelled futures).
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    if _ADDRESS.fullmatch(address) is None:
        raise ScenarioError(
            f"--scheduler {address}: expected a Dask scheduler address such as tcp://HOST:8786"
        )
    if importlib.util.find_spec("distributed") is None:
        raise ScenarioError(f"--scheduler needs Dask's distributed: {CLUSTER_INSTALL_HINT}")
    import distributed  # noqa: PLC0415 - the optional extra, only when asked for

    try:
        client = distributed.Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, ValueError, TimeoutError) as exc:
        raise ScenarioError(
            f"--scheduler {address}: cannot reach a Dask scheduler there within "
            f"{timeout:g} s ({exc}); is `dask scheduler` running and the port open?"
        ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError):
            raise ScenarioError(
                f"--scheduler {address}: the scheduler has had no worker for {timeout:g} s; "
                f"start one with `dask worker {address}`"
            ) from None
        threads = sum(client.nthreads().values())
        try:
            yield Cluster(address, client.get_executor(), threads)
        except Exception as exc:
            if not _from_the_cluster(exc):
                raise
            raise ScenarioError(
                f"--scheduler {address}: the cluster failed during the sweep "
                f"({type(exc).__name__}: {exc}); no file was written"
            ) from None
    finally:
        client.close()


def _from_the_cluster(exc: Exception) -> bool:
    """A lost scheduler or worker, not a run's own error (those are the sweep's to tell)."""
    if isinstance(exc, OSError | TimeoutError | concurrent.futures.CancelledError):
        return True
    return type(exc).__module__.split(".", 1)[0] == "distributed"
