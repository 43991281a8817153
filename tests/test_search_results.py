"""The search-results file: read back within bounds, or one clear error."""

import json

import numpy as np
import pytest

from skmnist import _search_results
from skmnist._search_results import read_results, write_results

from ._measure import measure_python

_ROWS = [
    {
        "rank": 1,
        "mean_test_score": 0.97,
        "std_test_score": 0.01,
        "mean_fit_time": 2.0,
        "param_mlp__epochs": 10,
        "param_mlp__hidden_layer_sizes": [32, 64],
    },
    {
        "rank": 2,
        "mean_test_score": float("nan"),  # its fits failed (error_score=nan)
        "std_test_score": float("nan"),
        "mean_fit_time": 0.1,
        "param_mlp__epochs": 5,
        "param_mlp__hidden_layer_sizes": [16],
    },
]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_results_round_trip(tmp_path, suffix):
    path = tmp_path / f"results{suffix}"
    write_results(_ROWS, path)
    results = read_results(path)
    assert results["mean_test_score"][0] == 0.97
    assert np.isnan(results["mean_test_score"][1])
    assert len(results["param_mlp__epochs"]) == 2


_READ = """
import sys
from skmnist._search_results import read_results
try:
    read_results(sys.argv[1])
except ValueError as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_results_file_of_one_100_mb_line_is_refused_within_bounds(tmp_path):
    path = tmp_path / "results.csv"
    with path.open("wb") as f:
        f.write(b"mean_test_score,param_mlp__epochs,param_mlp__hidden_layer_sizes\n")
        for _ in range(100):
            f.write(b"9" * 2**20)
    run = measure_python(_READ, args=[path], timeout=120, limit_mb=2048)
    assert run.returncode == 3, run.stderr[-2000:]
    limit = _search_results.MAX_RESULTS_BYTES
    assert f"holds more than {limit:,} bytes" in run.stdout
    assert run.peak_mb < 250, f"{run.peak_mb:.0f} MB"
    assert len(run.stdout) < 500


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # a field of 1 MiB: csv refuses it (0.x: a csv.Error traceback)
        (
            "mean_test_score,param_mlp__epochs,param_mlp__hidden_layer_sizes\n"
            + "1" * 2**20,
            "field larger than field limit",
        ),
        ("[" * 100_000 + "]" * 100_000, "cannot read search results"),
        ('{"mean_test_score": [1]}', "not a JSON list of candidates"),
        (
            json.dumps(
                [
                    {
                        "mean_test_score": "x" * 10_000,
                        "param_mlp__epochs": 1,
                        "param_mlp__hidden_layer_sizes": [1],
                    }
                ]
            ),
            r"a mean_test_score is 'xxxxxxx",
        ),
        ('[{"mean_test_score": 0.9}]', "param_mlp__epochs"),
    ],
    ids=["1 MiB field", "JSON nested 100,000 deep", "not a list", "text", "missing"],
)
def test_bad_results_files_are_one_clear_error(tmp_path, content, expected):
    suffix = ".csv" if content.startswith("mean") else ".json"
    path = tmp_path / f"results{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=expected) as info:
        read_results(path)
    assert str(path) in str(info.value)
    assert len(str(info.value)) < 400
