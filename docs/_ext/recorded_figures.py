"""The ``recorded-figures`` directive: a table of figures from a recorded run.

``.. recorded-figures:: NAME`` renders table ``NAME`` of
``benchmarks/render.py`` from its record in ``benchmarks/results/`` (or
``SKMNIST_RESULTS``), with the command, date, machine, load and versions it
came from; a table not yet recorded says so. The page is rebuilt when its
record changes.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import render  # noqa: E402


class RecordedFigures(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        if name not in render.TABLES:
            raise self.error(
                f"unknown figures {name!r}; benchmarks/render.py has "
                + ", ".join(sorted(render.TABLES))
            )
        source, _ = render.TABLES[name]
        self.env.note_dependency(str(render.results_dir() / f"{source}.json"))
        container = nodes.container(classes=["recorded-figures"])
        lines = render.render(name, "rst").splitlines()
        self.state.nested_parse(
            StringList(lines, source=f"<recorded figures {name}>"),
            self.content_offset,
            container,
        )
        return [container]


def setup(app):
    app.add_directive("recorded-figures", RecordedFigures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
