"""The recipes of ``skmnist train --preset``, as text: its help line and Python.

What the ``train-preset`` directive shows (``train_presets.py``), apart
from Sphinx so that the tests can check it without the docs' requirements.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import textwrap

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
