"""The ``train-preset`` directive: a recipe of ``skmnist train --preset``.

``.. train-preset:: NAME`` shows recipe ``NAME`` of ``PRESETS`` in
``skmnist/cli/train.py`` as ``skmnist train --help`` prints it, then the same
pipeline in Python, so the pages never type the recipe by hand and cannot
drift from the command.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import textwrap

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from skmnist.cli import train


def help_text(name):
    """The recipe's line of ``skmnist train --help``."""
    return textwrap.fill(
        f"--preset {name}: {train._describe(train.PRESETS[name])}.", 78
    )


def python_code(name):
    """Python that builds the pipeline ``skmnist train --preset NAME`` trains."""
    recipe = dict(train.PRESETS[name])
    halve_every = recipe.pop("halve_every", None)
    augmentation = recipe.pop("augmentation", None)
    lines = [
        "import keras",
        "from skmnist import ImageAugmentation, make_mnist_pipeline",
        "",
        "pipeline = make_mnist_pipeline(",
    ]
    lines += [f"    {key}={value!r}," for key, value in recipe.items()]
    if augmentation is not None:
        args = ", ".join(f"{k}={v!r}" for k, v in augmentation.items())
        lines.append(f"    augmentation=ImageAugmentation({args}),")
    if halve_every:
        rate = recipe["learning_rate_init"]
        lines += [
            f"    # the learning rate halved every {halve_every} epochs",
            "    callbacks=[",
            "        keras.callbacks.LearningRateScheduler(",
            f"            lambda epoch: {rate!r} * 0.5 ** (epoch // {halve_every})",
            "        )",
            "    ],",
        ]
    lines += ["    random_state=0,", ")"]
    return "\n".join(lines) + "\n"


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
