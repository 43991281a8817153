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


def read_results(path):
    """Read a file of :func:`write_results` as the columns a heatmap needs.

    Parameters
    ----------
    path : str or path-like
        A ``.json`` file, else CSV.

    Returns
    -------
    columns : dict of str to list
        ``mean_test_score`` and the two parameter columns, ready for
        :func:`skmnist.plotting.plot_search_heatmap`.

    Raises
    ------
    ValueError
        If the file cannot be read or lacks one of the columns.
    """
    import csv

    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(path.read_text())
        else:
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
        return {
            key: [row[key] for row in rows]
            for key in ("mean_test_score", EPOCHS_COLUMN, HIDDEN_LAYER_SIZES_COLUMN)
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"cannot read search results from {path}: {exc}") from None
