"""Full-batch L-BFGS training of a chain of dense layers (``solver="lbfgs"``).

scikit-learn's ``MLPClassifier(solver="lbfgs")`` hands SciPy's L-BFGS-B one
vector of every kernel and bias and a function giving the loss (cross-entropy
plus ``alpha / 2`` times the squared norm of the kernels, both divided by the
sum of the sample weights) and its gradient. This module does the same for a
Keras model built by :mod:`skmnist._network`: it reads the model's weights,
evaluates loss and gradient with NumPy in float64 (for the few hundred rows
L-BFGS is meant for, a call into a framework costs more than the arithmetic),
and writes the optimum back into the model in the model's own dtype.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import keras
import numpy as np
import scipy.optimize
import scipy.sparse
from scipy.special import expit
from threadpoolctl import threadpool_limits

from ._compat import _check_optimize_result

NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)

_EPS = np.finfo(np.float64).eps

# Below this many multiply-adds per evaluation (rows times parameters), BLAS
# runs on one thread: SciPy's L-BFGS-B update and the small products gain
# nothing from a second one, and on a busy machine waking it cost 5 ms a call
# (60 rows, a (10, 10) network: 1.8 s a fit on two threads, 0.25 s on one).
_ONE_THREAD_BELOW = 10_000_000


@dataclass(frozen=True)
class Result:
    """What one L-BFGS run did.

    Attributes
    ----------
    n_iter : int
        Iterations run, at most ``max_iter`` (scikit-learn's ``n_iter_``).
    loss : float
        The objective at the returned weights (scikit-learn's ``loss_``).
    converged : bool
        Whether SciPy stopped on its own tolerance rather than on a limit or
        a failed line search (when False, a ConvergenceWarning was issued).
    n_fun : int
        Evaluations of the loss and its gradient.
    message : str
        SciPy's reason for stopping.
    """

    n_iter: int
    loss: float
    converged: bool
    n_fun: int
    message: str


def fit_lbfgs(
    model,
    X,
    y,
    sample_weight=None,
    *,
    alpha,
    max_iter,
    max_fun,
    tol,
    interrupt=None,
    output_alpha=None,
):
    """Train ``model`` in place by full-batch L-BFGS, as scikit-learn's MLP does.

    Parameters
    ----------
    model : keras.Model
        A chain of ``Dense`` layers (``Dropout`` layers of rate 0 may sit
        between them) whose hidden activations are ``relu``, ``tanh``,
        ``sigmoid`` or ``linear`` and whose output is a ``softmax`` over the
        classes or one ``sigmoid`` unit. Training starts from its current
        weights, so a warm start is a second call on the same model. The
        layers' own regularizers are not read: `alpha` is the penalty.
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
        Training rows; evaluated in float64.
    y : ndarray of shape (n_samples,)
        Class codes: ``0 .. n_outputs - 1`` for a softmax output, ``0`` or
        ``1`` for a single sigmoid unit.
    sample_weight : ndarray of shape (n_samples,) or None
        Weight of each row's loss; the loss is their weighted mean.
    alpha : float
        L2 penalty: ``alpha / 2`` times the squared norm of every kernel,
        divided by the sum of the weights (the number of rows without).
    output_alpha : float, optional
        The penalty of the output layer's kernel instead of `alpha`.
        ``2 * alpha`` on a two-unit softmax gives the optimum (prediction
        and loss) of scikit-learn's single logistic unit with `alpha`: only
        the difference ``d`` of the two columns matters, and the smallest
        squared norm with that difference is ``|d|^2 / 2``.
    max_iter, max_fun : int
        SciPy's ``maxiter`` and ``maxfun``.
    tol : float
        SciPy's ``gtol``: stop when every component of the projected gradient
        is at most this.
    interrupt : skmnist._interrupt.Interrupt, optional
        Read at the end of each iteration: once ``requested``, training stops
        there, keeps that iterate and sets ``honoured`` (no warning).

    Returns
    -------
    Result
        The iterations, final loss, convergence and evaluation count. A run
        that did not converge, and was not interrupted, has also issued
        scikit-learn's ``ConvergenceWarning`` ("lbfgs failed to converge
        after ...").

    Raises
    ------
    ValueError
        If the model is not such a chain, or if the optimum is not finite in
        the model's dtype (then the model keeps its previous weights).
    """
    layers, network, start, args = _problem(
        model, X, y, sample_weight, alpha, output_alpha
    )
    objective = _Objective(network.loss_grad, args, interrupt)
    threads = 1 if args[0].shape[0] * start.size < _ONE_THREAD_BELOW else None
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            result = scipy.optimize.minimize(
                objective,
                start,
                method="L-BFGS-B",
                jac=True,
                callback=objective.end_of_iteration,
                options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
            )
    except _Interrupted:
        interrupt.honoured = True
        params = objective.iterate
        loss, _ = network.loss_grad(params, *objective.args)
        n_iter, converged, message = objective.iterations, False, _INTERRUPTED
    else:
        n_iter = _check_optimize_result("lbfgs", result, max_iter)
        params, loss = result.x, result.fun
        converged, message = result.status == 0, str(result.message)
    _write(layers, *network.unpack(params))
    return Result(
        n_iter=int(n_iter),
        loss=float(loss),
        converged=converged,
        n_fun=objective.calls,
        message=message,
    )


def loss_grad(model, X, y, sample_weight=None, *, alpha, output_alpha=None):
    """The objective and its gradient at ``model``'s current weights.

    The arguments are those of :func:`fit_lbfgs`. Returns ``(loss, grad)``,
    ``grad`` packed as scikit-learn packs ``coefs_`` and ``intercepts_``:
    every kernel flattened row by row, then every bias.
    """
    _, network, params, args = _problem(model, X, y, sample_weight, alpha, output_alpha)
    return network.loss_grad(params, *args)


def _problem(model, X, y, sample_weight, alpha, output_alpha=None):
    """The dense layers, their network, its packed weights and the loss' arguments."""
    layers, activations = _dense_chain(model)
    network = _Network([layer.kernel.shape for layer in layers], activations)
    params = network.pack(*_weights(layers))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    alphas = [float(alpha)] * len(layers)
    if output_alpha is not None:
        alphas[-1] = float(output_alpha)
    args = (_as_float64(X), np.asarray(y), sample_weight, alphas)
    return layers, network, params, args


class _Interrupted(Exception):
    """Ctrl-C was pressed: L-BFGS stops at the end of the iteration."""


_INTERRUPTED = "Training interrupted by user."


class _Objective:
    """The loss and gradient SciPy minimises, counting calls and iterations."""

    def __init__(self, loss_grad, args, interrupt):
        self.loss_grad = loss_grad
        self.args = args
        self.interrupt = interrupt
        self.calls = 0
        self.iterations = 0
        self.iterate = None

    def __call__(self, params):
        self.calls += 1
        return self.loss_grad(params, *self.args)

    def end_of_iteration(self, params):
        self.iterations += 1
        if self.interrupt is not None and self.interrupt.requested:
            self.iterate = np.array(params)
            raise _Interrupted


def _dense_chain(model):
    """The model's dense layers and their activation names, or ValueError."""
    layers, activations = [], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dropout) and not layer.rate:
            continue
        if isinstance(layer, keras.layers.Dropout):
            raise ValueError(
                f"solver='lbfgs' trains without dropout, but layer {layer.name!r} "
                f"drops {layer.rate:g} of its inputs; set dropout=0 or use a "
                "stochastic solver ('adam' or 'sgd')."
            )
        config = layer.get_config() if isinstance(layer, keras.layers.Dense) else {}
        if not config.get("use_bias") or config.get("activation") not in _FUNCTIONS:
            raise ValueError(
                "solver='lbfgs' trains a chain of Dense layers with biases and "
                f"the activations {sorted(_FUNCTIONS)}; layer {layer.name!r} "
                f"({type(layer).__name__}) is not one. Use a stochastic solver "
                "('adam' or 'sgd') for this network."
            )
        layers.append(layer)
        activations.append(config["activation"])
    if not layers or activations[-1] not in ("softmax", "sigmoid"):
        raise ValueError(
            "solver='lbfgs' needs a softmax or sigmoid output layer for the "
            f"cross-entropy; the network ends in {activations[-1:]}."
        )
    if activations[-1] == "sigmoid" and layers[-1].units != 1:
        raise ValueError(
            "solver='lbfgs' takes a sigmoid output of one unit (two classes); "
            f"the network has {layers[-1].units}."
        )
    if "softmax" in activations[:-1]:
        raise ValueError("solver='lbfgs' takes softmax only in the output layer.")
    return layers, activations


def _weights(layers):
    """The layers' kernels and biases, as NumPy arrays."""
    pairs = [layer.get_weights() for layer in layers]
    return [kernel for kernel, _ in pairs], [bias for _, bias in pairs]


def _as_float64(X):
    if scipy.sparse.issparse(X):
        return scipy.sparse.csr_matrix(X, dtype=np.float64)
    return np.ascontiguousarray(X, dtype=np.float64)


def _write(layers, kernels, biases):
    """Set the layers' weights in their dtype, refusing non-finite values."""
    with np.errstate(over="ignore"):  # an overflow is refused just below
        cast = [
            (
                np.asarray(w, dtype=layer.kernel.dtype),
                np.asarray(b, dtype=layer.bias.dtype),
            )
            for layer, w, b in zip(layers, kernels, biases, strict=True)
        ]
    if not all(np.isfinite(w).all() and np.isfinite(b).all() for w, b in cast):
        raise ValueError(NON_FINITE_WEIGHTS)
    for layer, (w, b) in zip(layers, cast, strict=True):
        layer.kernel.assign(w)
        layer.bias.assign(b)


# Each hidden activation in place, and the factor its derivative multiplies
# the incoming gradient by, written in terms of the activation's output.
def _relu(z):
    return np.maximum(z, 0, out=z)


def _relu_slope(h, delta):
    delta[h <= 0] = 0


def _tanh_slope(h, delta):
    delta *= 1 - h * h


def _sigmoid_slope(h, delta):
    delta *= h * (1 - h)


_FUNCTIONS = {
    "relu": (_relu, _relu_slope),
    "tanh": (lambda z: np.tanh(z, out=z), _tanh_slope),
    "sigmoid": (lambda z: expit(z, out=z), _sigmoid_slope),
    "linear": (lambda z: z, lambda h, delta: None),
    "softmax": (None, None),
}


class _Network:
    """Loss and gradient of a dense chain on a packed parameter vector."""

    def __init__(self, shapes, activations):
        self.shapes = [tuple(int(n) for n in shape) for shape in shapes]
        self.activations = activations
        sizes = [a * b for a, b in self.shapes] + [b for _, b in self.shapes]
        self.bounds = np.cumsum([0, *sizes])

    def pack(self, kernels, biases):
        return np.concatenate(
            [np.ravel(a).astype(np.float64) for a in [*kernels, *biases]]
        )

    def unpack(self, params):
        n = len(self.shapes)
        parts = [params[self.bounds[i] : self.bounds[i + 1]] for i in range(2 * n)]
        kernels = [
            part.reshape(shape)
            for part, shape in zip(parts[:n], self.shapes, strict=True)
        ]
        return kernels, parts[n:]

    def loss_grad(self, params, X, y, weights, alphas):
        kernels, biases = self.unpack(params)
        total = X.shape[0] if weights is None else weights.sum()
        outputs = [X]
        for w, b, name in zip(
            kernels[:-1], biases[:-1], self.activations[:-1], strict=True
        ):
            z = outputs[-1] @ w
            z += b
            outputs.append(_FUNCTIONS[name][0](z))
        z = outputs[-1] @ kernels[-1]
        z += biases[-1]
        rows = np.arange(X.shape[0])
        if self.activations[-1] == "softmax":
            z -= z.max(axis=1, keepdims=True)
            prob = np.exp(z, out=z)
            prob /= prob.sum(axis=1, keepdims=True)
            losses = -np.log(np.clip(prob[rows, y], _EPS, 1 - _EPS))
            delta = prob
            delta[rows, y] -= 1
        else:
            prob = expit(z[:, 0])
            clipped = np.clip(prob, _EPS, 1 - _EPS)
            losses = -np.log(np.where(y == 1, clipped, 1 - clipped))
            delta = z
            delta[:, 0] = prob - y
        if weights is not None:
            losses *= weights
            delta *= weights[:, None]
        delta /= total
        penalty = sum(
            a * np.dot(w.ravel(), w.ravel())
            for a, w in zip(alphas, kernels, strict=True)
        )
        loss = (losses.sum() + 0.5 * penalty) / total

        grad = np.empty_like(params)
        kernel_grads, bias_grads = self.unpack(grad)
        for i in range(len(kernels) - 1, -1, -1):
            kernel_grads[i][...] = outputs[i].T @ delta
            kernel_grads[i] += (alphas[i] / total) * kernels[i]
            bias_grads[i][...] = delta.sum(axis=0)
            if i:
                delta = delta @ kernels[i].T
                _FUNCTIONS[self.activations[i - 1]][1](outputs[i], delta)
        return float(loss), grad
