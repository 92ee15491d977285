"""shapes32: 10,000 generated 32x32 colour images of ten shape and texture classes.

Each image is one figure drawn at a random position, size and rotation, in a random colour on
a background of another random colour with a linear gradient, plus Gaussian pixel noise. The
class is the figure's geometry alone (colour, place, size and angle are nuisance), so a
network has to learn shape: discs from rings and squares from frames differ only inside the
outline, and a rotated bar and a plus share their strokes. Generated deterministically from a
fixed seed in about a second; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

CLASSES = (
    "disc",
    "ring",
    "square",
    "frame",
    "triangle",
    "plus",
    "bar",
    "dots",
    "stripes",
    "checks",
)
SIZE = 32
TRAIN_PER_CLASS = 800
TEST_PER_CLASS = 200
NOISE = 0.12
SEED = 32


def _mask(label: int, u: np.ndarray, v: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Where the figure of class ``label`` is, from figure-frame coordinates ``(u, v)`` (the
    figure spans about [-1, 1]^2); ``freq`` sets the period of the two texture classes."""
    name = CLASSES[label]
    if name in ("disc", "ring"):
        radius = np.hypot(u, v)
        return (radius <= 1.0) & (radius >= (0.55 if name == "ring" else 0.0))
    box = np.maximum(np.abs(u), np.abs(v))
    if name == "square":
        return box <= 0.8
    if name == "frame":
        return (box >= 0.5) & (box <= 0.85)
    if name == "triangle":
        s3 = np.sqrt(3.0)
        return (v >= -0.5) & (s3 * u + v <= 1.0) & (-s3 * u + v <= 1.0)
    if name == "plus":
        return ((np.abs(u) <= 0.28) | (np.abs(v) <= 0.28)) & (box <= 1.0)
    if name == "bar":
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 0.3)
    if name == "dots":
        return (np.hypot(u - 0.6, v) <= 0.38) | (np.hypot(u + 0.6, v) <= 0.38)
    stripes = np.sin(np.pi * freq * u)
    return (stripes if name == "stripes" else stripes * np.sin(np.pi * freq * v)) > 0


def _draw(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Images ``(N, 32, 32, 3)`` in [0, 1] of the classes ``label``."""
    n = len(label)
    centre = rng.uniform(11.0, 21.0, size=(n, 2))
    scale = rng.uniform(6.0, 10.0, size=n)
    angle = rng.uniform(0.0, np.pi, size=n)
    freq = rng.uniform(1.5, 3.0, size=n)
    grid = np.arange(SIZE, dtype=np.float32) + 0.5
    dy = grid[None, :, None] - centre[:, 0, None, None]
    dx = grid[None, None, :] - centre[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u = (cos * dx + sin * dy) / scale[:, None, None]
    v = (cos * dy - sin * dx) / scale[:, None, None]
    mask = np.zeros(u.shape, bool)
    for k in range(len(CLASSES)):
        rows = label == k
        mask[rows] = _mask(k, u[rows], v[rows], freq[rows, None, None])
    mask = mask[..., None]
    background = rng.uniform(0.0, 1.0, size=(n, 1, 1, 3))
    # The figure is lighter than a dark background, darker than a light one, by 0.35-0.65.
    sign = np.where(background.mean(axis=-1, keepdims=True) < 0.5, 1.0, -1.0)
    offset = sign * rng.uniform(0.35, 0.65, size=(n, 1, 1, 1))
    figure = np.clip(background + offset + rng.normal(0.0, 0.15, size=(n, 1, 1, 3)), 0.0, 1.0)
    slope = rng.normal(0.0, 0.15, size=(n, 1, 1, 2))
    ramp = slope[..., 0:1] * dy[..., None] / SIZE + slope[..., 1:2] * dx[..., None] / SIZE
    image = np.where(mask, figure, background).astype(np.float32) + ramp.astype(np.float32)
    image += NOISE * rng.standard_normal(size=image.shape, dtype=np.float32)
    return np.clip(image, 0.0, 1.0, out=image)


def shapes32_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train (8000, 32, 32, 3), y_train, x_test (2000, 32, 32, 3), y_test)``, the same
    arrays on every call and machine (a fixed seed, NumPy's PCG64); classes are balanced."""
    rng = np.random.default_rng(SEED)
    parts = []
    for per_class in (TRAIN_PER_CLASS, TEST_PER_CLASS):
        y = rng.permutation(np.repeat(np.arange(len(CLASSES), dtype=np.int32), per_class))
        # In chunks, so the intermediates stay small.
        x = np.concatenate([_draw(y[i : i + 1000], rng) for i in range(0, len(y), 1000)])
        parts += [x, y]
    return parts[0], parts[1], parts[2], parts[3]
