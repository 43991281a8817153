"""The ``train-preset`` directive: a recipe of ``skmnist train --preset``.

``.. train-preset:: NAME`` shows recipe ``NAME`` of ``PRESETS`` in
``skmnist/cli/train.py`` as ``skmnist train --help`` prints it, then the same
pipeline in Python, so the pages never type the recipe by hand and cannot
drift from the command.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from docutils import nodes
from preset_text import help_text, python_code
from sphinx.util.docutils import SphinxDirective

from skmnist.cli import train


class TrainPreset(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        if name not in train.PRESETS:
            raise self.error(
                f"unknown preset {name!r}; skmnist train has "
                + ", ".join(sorted(train.PRESETS))
            )
        self.env.note_dependency(train.__file__)
        shown = []
        for text, language in (
            (help_text(name), "text"),
            (python_code(name), "python"),
        ):
            block = nodes.literal_block(text, text)
            block["language"] = language
            shown.append(block)
        return shown


def setup(app):
    app.add_directive("train-preset", TrainPreset)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
