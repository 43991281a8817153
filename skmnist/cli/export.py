"""``skmnist export``: a saved model as an ONNX file, for onnxruntime."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os

from .._atomic import check_writable, write_bytes
from . import _console, _options

# The element types of the ONNX input, as skmnist.onnx.INPUT_DTYPES (not
# imported here: parsing the arguments imports nothing heavy).
_INPUT_DTYPES = ("uint8", "uint16", "int32", "int64", "float32", "float64")


def add_parser(commands):
    """Add the ``export`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "export",
        help="write a saved model as an ONNX file",
        description="Write a model file as an ONNX model that onnxruntime runs "
        "without TensorFlow or skmnist: images (or feature rows) in, 'label' and "
        "'probabilities' out, equal to the model's predict and predict_proba. "
        'Needs the onnx extra: pip install "skmnist[onnx]".',
    )
    _options.add_model(parser, help="a model file from 'train --output'")
    parser.add_argument("output", metavar="OUTPUT", help="the ONNX file to write")
    parser.add_argument(
        "--input-dtype",
        choices=_INPUT_DTYPES,
        default=None,
        help="element type of the ONNX input (default: uint8 for a pipeline "
        "fitted on 8-bit images such as MNIST's, else float32)",
    )
    _options.add_json(parser)
    parser.set_defaults(run=run)


def run(args, out):
    """Write the ONNX file and say what it takes and gives; return the exit code."""
    from .._optional import import_onnx
    from ..onnx import to_onnx

    onnx = import_onnx()  # before Keras starts: a missing extra fails at once
    check_writable(args.output)
    if os.path.realpath(args.output) == os.path.realpath(args.model):
        raise _console.Failure(
            f"cannot write {_console.printable(args.output)}: it is the model file {args.model}, "
            "which the ONNX file would overwrite"
        )
    model = _console.load_model(args.model)
    try:
        proto = to_onnx(model, input_dtype=args.input_dtype)
    except (TypeError, ValueError) as exc:
        raise _console.Failure(f"cannot export {args.model}: {exc}") from None
    size = write_bytes(args.output, proto.SerializeToString())
    graph = proto.graph
    io = {
        "inputs": [_describe(onnx, value) for value in graph.input],
        "outputs": [_describe(onnx, value) for value in graph.output],
    }
    result = {"file": args.output, "bytes": size, **io}
    lines = [
        f"wrote {_console.printable(args.output)} ({size / 1024:.1f} KiB, ONNX opset "
        f"{proto.opset_import[0].version})",
        *(f"  input  {_line(v)}" for v in io["inputs"]),
        *(f"  output {_line(v)}" for v in io["outputs"]),
    ]
    _console.emit(args, out, result, lines)
    return 0


def _describe(onnx, value):
    """Name, element type and shape of a graph input or output."""
    tensor = value.type.tensor_type
    shape = [d.dim_param or d.dim_value for d in tensor.shape.dim]
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
    return {
        "name": value.name,
        "dtype": "str" if dtype.kind == "O" else str(dtype),
        "shape": shape,
    }


def _line(value):
    shape = ", ".join(map(str, value["shape"]))
    return f"{value['name']}: {value['dtype']} ({shape})"
