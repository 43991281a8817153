"""The search-results file: what ``skmnist search --results`` writes.

One row per candidate, best first: its rank, mean and spread of the
cross-validated accuracy, mean fit time, and the two searched parameters,
under the column names of ``cv_results_`` (``param_mlp__epochs``, ...).
``skmnist report --search-results`` reads it back for
:func:`skmnist.plotting.plot_search_heatmap`.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import json
import math
from pathlib import Path

from .pipeline import MLP_STEP

#: The searched parameters, as keys of a grid over the pipeline.
EPOCHS = f"{MLP_STEP}__epochs"
HIDDEN_LAYER_SIZES = f"{MLP_STEP}__hidden_layer_sizes"
#: Their columns in ``cv_results_`` and in the results file.
EPOCHS_COLUMN = f"param_{EPOCHS}"
HIDDEN_LAYER_SIZES_COLUMN = f"param_{HIDDEN_LAYER_SIZES}"

_SCORES = ("rank_test_score", "mean_test_score", "std_test_score", "mean_fit_time")


def search_rows(cv_results):
    """The candidates of a search, best first, as plain dicts.

    Parameters
    ----------
    cv_results : dict
        A grid search's ``cv_results_`` over :data:`EPOCHS` and
        :data:`HIDDEN_LAYER_SIZES`.

    Returns
    -------
    rows : list of dict
        ``rank``, ``mean_test_score``, ``std_test_score``, ``mean_fit_time``
        and the two parameter columns, in JSON types.
    """
    rows = []
    for i, params in enumerate(cv_results["params"]):
        row = {"rank": int(cv_results[_SCORES[0]][i])}
        row.update({key: float(cv_results[key][i]) for key in _SCORES[1:]})
        row[EPOCHS_COLUMN] = int(params[EPOCHS])
        row[HIDDEN_LAYER_SIZES_COLUMN] = list(params[HIDDEN_LAYER_SIZES])
        rows.append(row)
    return sorted(rows, key=lambda r: (r["rank"], -r["mean_test_score"]))


def write_results(rows, path):
    """Write :func:`search_rows` to ``path``: JSON for ``.json``, else CSV.

    Parameters
    ----------
    rows : list of dict
        What :func:`search_rows` returns; at least one row.

    path : str or path-like
        The file to write. In CSV the layer widths are one field, such as
        ``32,64``.
    """
    import csv

    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, indent=2) + "\n")
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            sizes = ",".join(map(str, row[HIDDEN_LAYER_SIZES_COLUMN]))
            writer.writerow({**row, HIDDEN_LAYER_SIZES_COLUMN: sizes})


# What a results file may hold: a search of 20,000 candidates writes about
# 2 MB of CSV (4 MB of JSON); a heatmap draws at most MAX_HEATMAP_VALUES of
# each parameter's values, whatever the file lists.
MAX_RESULTS_BYTES = 64 * 2**20
MAX_RESULTS_ROWS = 1_000_000


def read_results(path):
    """Read a file of :func:`write_results` as the columns a heatmap needs.

    Parameters
    ----------
    path : str or path-like
        A ``.json`` file, else CSV, of at most :data:`MAX_RESULTS_BYTES`
        and :data:`MAX_RESULTS_ROWS` candidates.

    Returns
    -------
    columns : dict of str to list
        ``mean_test_score`` (floats; NaN for a candidate whose fits failed)
        and the two parameter columns, ready for
        :func:`skmnist.plotting.plot_search_heatmap`.

    Raises
    ------
    ValueError
        If the file cannot be read, is too large, or lacks one of the
        columns.
    """
    import csv
    import io

    path = Path(path)
    columns = ("mean_test_score", EPOCHS_COLUMN, HIDDEN_LAYER_SIZES_COLUMN)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_RESULTS_BYTES + 1)
        if len(data) > MAX_RESULTS_BYTES:
            raise ValueError(
                f"it holds more than {MAX_RESULTS_BYTES:,} bytes, the most a "
                "search's results file may"
            )
        text = data.decode("utf-8")
        if path.suffix.lower() == ".json":
            rows = json.loads(text)
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                raise ValueError("it is not a JSON list of candidates")
        else:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        if len(rows) > MAX_RESULTS_ROWS:
            raise ValueError(
                f"it lists {len(rows):,} candidates; a results file lists at most "
                f"{MAX_RESULTS_ROWS:,}"
            )
        results = {key: [row[key] for row in rows] for key in columns}
        results["mean_test_score"] = [
            _score(value) for value in results["mean_test_score"]
        ]
        return results
    except (OSError, ValueError, KeyError, TypeError, csv.Error, RecursionError) as exc:
        message = str(exc)
        if len(message) > 200:
            message = f"{message[:200]}..."
        raise ValueError(f"cannot read search results from {path}: {message}") from None


def _score(value):
    """A candidate's mean score: a float, NaN if its fits failed (or it is not one)."""
    if isinstance(value, bool):
        raise ValueError(f"a mean_test_score is {value}, not a number")
    try:
        score = float(value)
    except (TypeError, ValueError):
        text = repr(value)
        raise ValueError(
            f"a mean_test_score is {text[:40]}{'...' if len(text) > 40 else ''}, "
            "not a number"
        ) from None
    return score if math.isfinite(score) else math.nan
