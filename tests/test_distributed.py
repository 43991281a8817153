"""Searches on a real Dask cluster of worker processes on 127.0.0.1."""

import concurrent.futures
import json
import os
import queue
import signal
import subprocess
import sys

import joblib
import numpy as np
import pytest
from distributed import Client, LocalCluster, WorkerPlugin
from sklearn.model_selection import StratifiedKFold, cross_validate

from skmnist import fault_tolerant_client, make_mnist_pipeline

from ._console import EXE
from ._console import run_skmnist as skmnist


@pytest.fixture(scope="module")
def client():
    """A scheduler on 127.0.0.1 and three one-thread worker processes.

    The workers run without a nanny, so a worker a test kills stays dead and
    no test waits for its replacement (a nanny's restart once took over a
    minute on a loaded machine, and hung the cluster's close). Two tests
    kill a worker each; the third worker is for whichever test comes after.
    """
    cluster = LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None)
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    worker += [cluster.scheduler_address, "--host", "127.0.0.1", "--nthreads", "1"]
    worker += ["--no-nanny", "--no-dashboard"]
    workers = [
        subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3)
    ]
    client = Client(cluster)
    try:
        client.wait_for_workers(3, timeout=120)
        yield client
    finally:
        client.close()
        for process in workers:
            process.kill()
            process.wait()
        cluster.close()


@pytest.fixture(scope="module")
def local_result(local_search):
    return local_search["best_params"], local_search["mean_test_score"]


def _assert_like_local(best_params, scores, local_result):
    local_params, local_scores = local_result
    assert best_params == local_params
    np.testing.assert_allclose(scores, local_scores, atol=0.01)


def _scatter_spy(client):
    """Record the size of each array the client sends to the cluster."""
    sizes = []
    scatter = client.scatter

    def counting_scatter(data, *args, **kwargs):
        items = data if isinstance(data, (list, tuple)) else [data]
        sizes.extend(getattr(item, "nbytes", 0) for item in items)
        return scatter(data, *args, **kwargs)

    client.scatter = counting_scatter
    return sizes


@pytest.mark.slow
def test_grid_search_on_the_cluster_matches_local(
    client, make_search, search_data, local_result
):
    sizes = _scatter_spy(client)
    try:
        with joblib.parallel_config(backend="dask", scatter=list(search_data)):
            search = make_search(n_jobs=-1).fit(*search_data)
    finally:
        del client.scatter
    _assert_like_local(
        search.best_params_, search.cv_results_["mean_test_score"], local_result
    )
    # 12 fits, but the images went to the cluster once
    X, y = search_data
    assert sizes.count(X.nbytes) == 1

    # each worker's TensorFlow kept to the worker's one thread
    def pools():
        import tensorflow as tf

        return (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        )

    assert set(client.run(pools).values()) == {(1, 1)}


@pytest.mark.slow
def test_models_fitted_on_workers_come_back_working(client, search_data):
    X, y = search_data
    cv = StratifiedKFold(2)
    with joblib.parallel_config(backend="dask"):
        result = cross_validate(
            make_mnist_pipeline(epochs=6, random_state=0),
            X,
            y,
            cv=cv,
            return_estimator=True,
            n_jobs=-1,
        )
    folds = [test for _, test in cv.split(X, y)]
    for estimator, score, test in zip(
        result["estimator"], result["test_score"], folds, strict=True
    ):
        # the model a worker fitted scores here exactly as it scored there
        assert score > 0.7
        assert estimator.score(X[test], y[test]) == pytest.approx(score, abs=1e-12)


_FITS = "skmnist-tests-fits"  # the topic the workers report their fits on


def _fit_reporter():
    """A worker plugin that logs an event when a fit starts executing on it.

    Defined in a function so that it travels to the workers by value
    (cloudpickle) rather than as a reference to this test module.
    """

    class ReportFits(WorkerPlugin):
        name = _FITS

        def setup(self, worker):
            self.worker = worker

        def transition(self, key, start, finish, **kwargs):
            if finish == "executing" and "_fit_and_score" in str(key):
                self.worker.log_event(
                    _FITS,
                    {
                        "worker": self.worker.address,
                        "pid": os.getpid(),
                        "key": str(key),
                    },
                )

    return ReportFits()


@pytest.fixture
def cluster_events(client):
    """Queues of what the cluster reports: fits starting, workers removed."""
    fits, removed = queue.Queue(), queue.Queue()
    client.subscribe_topic(_FITS, lambda event: fits.put(event[1]))

    def on_scheduler_event(event):
        msg = event[1]
        if isinstance(msg, dict) and msg.get("action") == "remove-worker":
            removed.put(msg)

    client.subscribe_topic("all", on_scheduler_event)
    client.register_plugin(_fit_reporter(), name=_FITS)
    try:
        yield fits, removed
    finally:
        client.unregister_worker_plugin(_FITS)
        client.unsubscribe_topic(_FITS)
        client.unsubscribe_topic("all")


def _next(events, what, timeout, alive=None):
    """The next event from ``events``, failing after ``timeout`` seconds."""
    try:
        return events.get(timeout=timeout)
    except queue.Empty:
        detail = alive() if alive else ""
        pytest.fail(f"the cluster reported no {what} within {timeout} s. {detail}")


def _kill_a_busy_worker(events, alive=None):
    """SIGKILL the first worker that reports a fit executing on it.

    Returns the worker's address once the scheduler has reported removing it
    with a fit still among its processing tasks: the kill was mid-fit.
    """
    fits, removed = events
    started = _next(fits, "fit starting on a worker", 180, alive)
    os.kill(started["pid"], signal.SIGKILL)
    while True:
        gone = _next(removed, f"removal of the killed worker {started['worker']}", 60)
        if gone["worker"] == started["worker"]:
            break
    assert any("_fit_and_score" in str(key) for key in gone["processing-tasks"]), gone
    return started["worker"]


@pytest.mark.slow
def test_a_worker_killed_mid_search(
    client, cluster_events, make_search, search_data, local_result
):
    """Dask re-runs the fits of a dead worker, and recomputes the data it held."""
    with concurrent.futures.ThreadPoolExecutor(1) as killer:
        victim = killer.submit(_kill_a_busy_worker, cluster_events)
        with joblib.parallel_config(
            backend="dask",
            client=fault_tolerant_client(client),
            scatter=list(search_data),
        ):
            search = make_search(n_jobs=-1).fit(*search_data)
        victim = victim.result(timeout=60)
    assert victim not in client.scheduler_info()["workers"]  # it really died
    _assert_like_local(
        search.best_params_, search.cv_results_["mean_test_score"], local_result
    )


def test_fault_tolerant_client_wants_a_client():
    with pytest.raises(TypeError, match="expects a distributed.Client, got 'tcp://"):
        fault_tolerant_client("tcp://127.0.0.1:8786")


@pytest.mark.slow
def test_a_worker_killed_mid_command_line_search(client, cluster_events, local_result):
    # the same search as make_search's, on the same 3,000 images
    args = ["--epochs", "1,3", "--hidden-layer-sizes", "16", "32,64", "--cv", "3"]
    args += ["--max-samples", "3000", "--random-state", "0", "--json"]
    proc = subprocess.Popen(
        [EXE, "search", "--scheduler", client.scheduler.address, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        victim = _kill_a_busy_worker(
            cluster_events,
            alive=lambda: f"skmnist search exit code: {proc.poll()}",
        )
        out, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert victim not in client.scheduler_info()["workers"]
    result = json.loads(out)
    _assert_like_local(
        {
            "mlp__epochs": result["best_params"]["mlp__epochs"],
            "mlp__hidden_layer_sizes": tuple(
                result["best_params"]["mlp__hidden_layer_sizes"]
            ),
        },
        # the CLI lists candidates best first, the search in grid order
        [
            r["mean_test_score"]
            for r in sorted(
                result["results"],
                key=lambda r: (
                    r["param_mlp__epochs"],
                    r["param_mlp__hidden_layer_sizes"],
                ),
            )
        ],
        local_result,
    )


def _on_two_cpus():
    """Run a child process on two of the CPUs this one may use."""
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])


@pytest.mark.slow
def test_cli_search_on_a_local_cluster(mnist_home, tmp_path):
    # more workers than CPUs: one per CPU, with a warning (100,000 processes
    # would exhaust the machine)
    result = skmnist(
        "search",
        "--scheduler",
        "local:100000",
        "--epochs",
        "1",
        "--hidden-layer-sizes",
        "16",
        "32",
        "--cv",
        "2",
        "--max-samples",
        "1000",
        "--results",
        str(tmp_path / "results.json"),
        preexec_fn=_on_two_cpus,
    )
    assert result.returncode == 0, result.stderr
    assert "local:100000 is more workers than the 2 CPUs" in result.stderr
    assert "starting a local Dask cluster of 2 workers" in result.stdout
    assert "fitting on 2 Dask workers (local:100000)" in result.stdout
    assert (
        "Done   4 out of   4" in result.stderr
        or "Done 4 out of 4" in result.stderr.replace("  ", " ")
    )
    table = result.stdout.split("hidden layers\n")[1].split("\n\n")[0].splitlines()
    assert [int(line.split()[0]) for line in table] == [1, 2]


@pytest.mark.slow
def test_cli_unreachable_scheduler(mnist_home):
    result = skmnist(
        "search",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--epochs",
        "1",
        "--max-samples",
        "500",
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "skmnist: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    )
