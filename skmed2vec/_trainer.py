"""The training loop: pair data from encoded timelines, fed epoch by epoch to the torch core.

Only ``TemporalMed2VecEmbedder.fit`` imports this module (on first use), so
transforming, scoring and loading a fitted embedder never load torch.
"""

import time
from dataclasses import dataclass

import numpy as np
import torch

from ._chunks import iter_chunks
from ._core import RowwiseAdagrad, TemporalMed2Vec
from ._core._training import negative_cdf, run_epoch, torch_threads
from ._pairs import MAX_CACHED_PAIRS, PairTotals, window_contexts, window_weights
from ._rows import TrainingRows
from ._warnings import warn_caller
from ._weights import temporal_weight

__all__ = ["Settings", "resolve_device", "train", "training_threads"]


@dataclass(frozen=True)
class Settings:
    """The estimator's training parameters, validated."""

    embed_dim: int
    time_decay: float
    window: int
    max_gap: float | None
    objective: str
    negative: int
    epochs: int
    batch_size: int
    learning_rate: float
    chunk_events: int
    device: torch.device
    threads: int


def resolve_device(name):
    """``torch.device(name)``, or a ValueError naming what is wrong or missing."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"device must be a torch device such as 'cpu' or 'cuda'; got {name!r}."
        ) from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'mps'; got {name!r}.")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} was requested but CUDA is not available.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={name!r} was requested but MPS is not available.")
    return device


def training_threads(n_jobs):
    """Torch threads for ``n_jobs``: None is one, -1 all, never above torch's own setting.

    torch's setting is the cores unless ``OMP_NUM_THREADS`` or
    ``torch.set_num_threads`` lowered it; joblib's worker processes start with
    their share of the cores (``cores // n_jobs``), so a fit inside a parallel
    search does not oversubscribe the machine.
    """
    available = torch.get_num_threads()
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, available + 1 + n_jobs)
    return max(1, min(n_jobs, available))


def train(X, counts, settings, *, seed, report, initial=None, pairs=None):
    """Learn the code and context tables from encoded timelines or summed pairs.

    Parameters
    ----------
    X : Timelines or None
        Encoded timelines, cut at their prediction times, with events. Not
        used (may be None) when ``pairs`` is given.
    counts : ndarray of shape (n_codes,)
        Events per code (the negative-sampling distribution).
    settings : Settings
    seed : int
        Seeds the initial values, the shuffling and the negatives.
    report : callable
        Called with a progress message after each epoch.
    initial : tuple (rows, vectors, context), default=None
        Warm start: the initial code vectors of ``rows`` are replaced by
        ``vectors`` (and their context vectors by ``context`` unless it is
        None) before training; other rows keep their random start.
    pairs : TrainingRows, default=None
        Precomputed distinct directed pairs and their summed weights (from
        ``PairCounts.pair_weight_chunks``), used by every epoch of
        ``"negative_sampling"`` instead of summing the pairs of ``X``.

    Returns
    -------
    code_vectors, context_vectors : ndarray of float32 of shape (n_codes, embed_dim)
        The trained tables, owning their memory (torch trained them in place).
    losses : list of float
        Loss of each epoch run per unit of pair weight (fewer than ``epochs``
        if interrupted).

    Raises
    ------
    FloatingPointError
        If training diverged; the message names ``learning_rate``.
    """
    generator = torch.Generator().manual_seed(seed)
    # numpy owns the tables, torch trains them in place: the fitted arrays need
    # no copy and hold no torch tensor (a view's .base would keep one alive).
    tables = [np.empty((len(counts), settings.embed_dim), dtype=np.float32) for _ in range(2)]
    model = TemporalMed2Vec(
        len(counts),
        settings.embed_dim,
        generator=generator,
        tables=[torch.from_numpy(table) for table in tables],
    ).to(settings.device)
    if initial is not None:
        _set_initial_rows(model, *initial)
    optimizer = RowwiseAdagrad(model.parameters(), lr=settings.learning_rate)
    cdf = negative_cdf(counts)
    with torch_threads(settings.threads):
        losses = _epochs(model, optimizer, X, cdf, generator, settings, report, pairs)
    if model.target.weight.device.type != "cpu":  # trained elsewhere: copy back
        tables = [t.weight.detach().cpu().numpy().copy() for t in (model.target, model.context)]
    vectors, context = tables
    # Bound on |code . context| scores. Trained scores stay within tens (the
    # sigmoid saturates); 1e12 only comes from divergence, NaN from worse.
    bound = _max_abs(vectors) * _max_abs(context) * vectors.shape[1]
    if not bound < 1e12:
        raise FloatingPointError(
            f"training diverged (vectors not finite or too large: scores up to "
            f"{bound:.3g}); lower learning_rate (now {settings.learning_rate!r})."
        )
    return vectors, context, losses


@torch.no_grad()
def _set_initial_rows(model, rows, vectors, context=None):
    """Overwrite the initial rows ``rows`` of the code (and context) table: warm start."""
    index = torch.from_numpy(np.asarray(rows, dtype=np.int64)).to(model.target.weight.device)
    for table, values in ((model.target, vectors), (model.context, context)):
        if values is not None:
            table.weight[index] = torch.from_numpy(np.asarray(values, dtype=np.float32)).to(
                table.weight.device
            )


def _epochs(model, optimizer, X, cdf, generator, settings, report, pairs=None):
    """Run the epochs; return the loss curve (shorter if interrupted).

    The summed pairs of all chunks are built once and reused by every epoch
    when they hold at most ``MAX_CACHED_PAIRS`` distinct ordered pairs (20M:
    vocabularies of 350,000 codes with a million events stay well below);
    otherwise each epoch rebuilds them chunk by chunk, visiting the chunks in
    a new random order, so memory stays bounded by ``chunk_events``. Each
    epoch's loss is its weighted loss per unit of pair weight, so cached and
    streamed fits report losses on the same scale.
    """
    if pairs is not None:
        chunks, cached = [], _pair_tensors(pairs)
    else:
        chunks = list(iter_chunks(X.offsets, settings.chunk_events))
        cached = _training_data(X, chunks, settings)
    losses = []
    try:
        for epoch in range(settings.epochs):
            start, total, weight, rows = time.perf_counter(), 0.0, 0.0, 0
            if cached is not None:
                parts = [cached]
            else:
                order = torch.randperm(len(chunks), generator=generator).tolist()
                parts = (_training_data(X, [chunks[i]], settings) for i in order)
            for data in parts:
                n = len(data["targets"])
                part_weight = float(data["weights"].sum())
                weight += part_weight
                total += part_weight * run_epoch(
                    model,
                    optimizer,
                    data,
                    objective=settings.objective,
                    batch_size=settings.batch_size,
                    negative=settings.negative,
                    cdf=cdf,
                    generator=generator,
                )
                rows += n
                del data
            if not weight > 0:
                if not losses:
                    warn_caller(_NOTHING_TO_LEARN.format(s=settings))
                losses.append(float("nan"))  # no weight: no loss per unit of it
                continue
            losses.append(total / weight)
            # Healthy training never multiplies the mean loss by a thousand, nor
            # ends an epoch far above where every model starts.
            start_loss = _start_loss(settings)
            if 0 < 1000 * losses[0] < losses[-1] or losses[-1] > 100 * start_loss:
                rise = (
                    f"rose from {losses[0]:.4g} after the first epoch to {losses[-1]:.4g}"
                    if epoch
                    else f"was {losses[-1]:.4g} after the first epoch"
                )
                raise FloatingPointError(
                    f"training diverged (the mean loss {rise}; an untrained model's is "
                    f"{start_loss:.3g}); lower learning_rate (now {settings.learning_rate!r})."
                )
            elapsed = time.perf_counter() - start
            report(
                f"epoch {epoch + 1}/{settings.epochs}: loss {losses[-1]:.4f}, "
                f"{rows / max(elapsed, 1e-9):,.0f} rows/s"
            )
    except KeyboardInterrupt:
        if not losses:
            raise
        warn_caller(
            f"fit interrupted after {len(losses)} of {settings.epochs} complete epochs; "
            "keeping the vectors as they were (the interrupted epoch's updates included)."
        )
    return losses


_NOTHING_TO_LEARN = (
    "no pair of events has a positive weight (no two events of a patient within "
    "window={s.window} events and max_gap={s.max_gap} days, or time_decay={s.time_decay} "
    "makes every weight 0): the vectors keep their random start and loss_curve_ is NaN. "
    "Widen the window or max_gap, lower time_decay, or give more events."
)


def _start_loss(settings):
    """Loss per unit of pair weight of an untrained model, whose scores are all 0.

    The context table starts at zero (as word2vec's), so every score is 0:
    ``log 2`` per positive and per each of the ``negative`` negatives; for
    ``"softmax"``, at most the log of the window's ``2 * window`` contexts.
    Warm-started vectors start lower. It scales the divergence check.
    """
    if settings.objective == "softmax":
        return float(np.log(2 * settings.window))
    return float(np.log(2) * (1 + settings.negative))


def _training_data(X, chunks, settings):
    """Tensors for the patients of ``chunks``, in the form the objective needs.

    For ``"negative_sampling"``, the pairs of all the chunks are summed into
    distinct (target, context) pairs, one chunk at a time. Returns None when
    several chunks were asked for and they hold more than ``MAX_CACHED_PAIRS``
    distinct pairs (or, for ``"softmax"``, whose per-event windows are not
    summed, whenever there are several chunks).
    """

    def events(chunk):
        first, stop = chunk
        lo, hi = X.offsets[first], X.offsets[stop]
        return X.codes[lo:hi], X.times[lo:hi], np.diff(X.offsets[first : stop + 1])

    if settings.objective == "softmax":
        if len(chunks) != 1:
            return None
        codes, times, lengths = events(chunks[0])
        contexts, deltas, mask = window_contexts(
            codes, times, lengths, settings.window, settings.max_gap
        )
        useful = mask.any(axis=1)
        weights = np.where(mask, temporal_weight(deltas, settings.time_decay), 0.0)
        return {
            "targets": torch.from_numpy(codes[useful]),
            "contexts": torch.from_numpy(contexts[useful]),
            "weights": torch.from_numpy(weights[useful].astype(np.float32)),
            "mask": torch.from_numpy(mask[useful]),
        }
    totals = PairTotals(len(X.code_names), max_pairs=MAX_CACHED_PAIRS if len(chunks) > 1 else None)
    for chunk in chunks:
        for left, right, weights in window_weights(
            *events(chunk), settings.window, settings.time_decay, settings.max_gap
        ):
            if not totals.add(left, right, weights):
                return None
    return _pair_tensors(TrainingRows(*totals.result(), budget=np.inf))


def _pair_tensors(rows):
    """Training tensors of distinct directed pairs and their summed weights (no copy)."""
    return {
        "targets": torch.from_numpy(rows.targets),
        "contexts": torch.from_numpy(rows.contexts),
        "weights": torch.from_numpy(rows.weights),
    }


def _max_abs(array):
    """Largest absolute value without an array-sized temporary; NaN if any is NaN."""
    low, high = float(array.min()), float(array.max())
    return high if high >= -low else -low
