"""TemporalMed2VecEmbedder: code vectors by time-weighted skip-gram, patient rows out."""

from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted, check_memory

from ._base import TimelineEstimatorMixin
from ._features import (
    AGGREGATIONS,
    CODE_WEIGHTINGS,
    code_weights_for,
    inverse_document_frequency,
    patient_features,
)
from ._inspection import CodeVectorsMixin
from ._rows import TrainingRows
from ._scoring import HORIZON_DAYS, next_codes_auc
from ._scratch import release
from ._timelines import as_timelines
from ._validation import N_JOBS
from ._vectors import read_only
from ._vocabulary import CodeVocabulary
from ._warm_start import initial_rows

__all__ = ["TemporalMed2VecEmbedder"]


class TemporalMed2VecEmbedder(
    CodeVectorsMixin, TimelineEstimatorMixin, TransformerMixin, BaseEstimator
):
    """Time-aware code embeddings, and patient feature rows built from them.

    ``fit`` learns one vector per code with a skip-gram over each patient's
    timeline: events at most ``window`` positions apart form context pairs,
    and a pair ``dt`` days apart counts ``exp(-time_decay * dt)``.
    ``transform`` turns each patient into one row: by default the mean of
    its code vectors weighted by recency (``exp(-recency_decay * age)``)
    next to their plain mean.

    Parameters
    ----------
    embed_dim : int, default=128
        Length of each code vector.
    time_decay : float, default=0.0
        Decay per day of the pair weights (and of the recency weights when
        ``recency_decay=None``); 0 turns the pair decay off.
    recency_decay : float or None, default=0.01
        Decay per day of the ``"recency"`` weights of ``transform`` (and of
        the rows ``score`` builds); None uses ``time_decay``, one decay for
        both.
    window : int, default=5
        Events on each side of an event that count as its context.
    max_gap : float, default=None
        Pairs more than this many days apart are not context.
    negative : int, default=5
        Negatives per positive pair, in expectation
        (``objective="negative_sampling"``): each batch draws ``32 * negative``
        codes from the unigram**0.75 distribution, shared by its rows and each
        weighted 1/32. The step's cost grows with it: 3 trains about 1.25x as
        many pairs per second at slightly lower precision per epoch. 0 disables
        negatives.
    epochs : int, default=5
        Passes over the training pairs.
    batch_size : int, default=1024
        Pairs (or target events, for ``"softmax"``) per optimiser step.
    learning_rate : float, default=0.2
        Step size of the row-wise Adagrad optimiser.
    objective : {"negative_sampling", "softmax"}, default="negative_sampling"
        ``"negative_sampling"`` scores each distinct (target, context) pair,
        weighted by its summed temporal weight, against shared negatives.
        ``"softmax"`` normalises over each event's own window only; nothing
        in it pushes unrelated codes apart, and with ``time_decay=0`` every
        context of a window weighs the same, so it learns nothing: use it
        with a decay.
    aggregation : {"recency", "mean", "max"} or list of them, \
            default=("recency", "mean")
        How ``transform`` combines a patient's code vectors; a list
        concatenates the blocks in order.
    code_weighting : {"idf"} or None, default=None
        Weights of the codes in the ``"recency"`` and ``"mean"`` blocks of
        ``transform``. ``"idf"`` multiplies each event's weight by its code's
        inverse document frequency over the training timelines
        (``code_idf_``), so that codes most patients have count less. On
        four Synthea outcome tasks, at 100 and 300 labels, it raised AUROC in
        all 8 settings, by up to 0.02; on a synthetic cohort with a large
        vocabulary it lowered it by 0.008 (``docs/benchmarks.md``, section 7).
        A transform-time setting: it can be changed on a fitted embedder.
    chunk_events : int, default=250_000
        Events whose pairs are generated and held at once; bounds memory.
    initial_vectors : object, default=None
        Warm start: vectors that the codes known to both start from (the
        others start at random, ``"<UNK>"`` always does). A fitted
        ``TemporalMed2VecEmbedder`` (its context vectors are copied too; wrap
        it in :class:`sklearn.frozen.FrozenEstimator` to keep it fitted
        through cloning), a gensim ``KeyedVectors`` or ``Word2Vec`` model, a
        DataFrame indexed by code (as from :meth:`to_frame` or
        :func:`~skmed2vec.load_word2vec_format`), a dict of code to vector,
        or the path of a vectors file read by :func:`~skmed2vec.load_vectors`
        (word2vec text or binary, safetensors, parquet). The vectors must
        have ``embed_dim`` values.
    device : str, default="cpu"
        Torch device for training, e.g. ``"cuda"``.
    n_jobs : int, default=None
        Parallelism of ``fit``. Chunks of patients whose pairs are summed in
        parallel through joblib (``-1``: all cores; under
        ``joblib.parallel_backend("dask")``, the cluster's workers; never
        more workers than chunks), and the
        torch threads of training on CPU (None: one; ``-1``: all that torch
        may use, which is the cores unless ``OMP_NUM_THREADS`` or
        ``torch.set_num_threads`` says less, and in joblib's worker processes
        their share of the cores, so a parallel grid search does not
        oversubscribe). Pair
        weights are summed as integers and torch's matrix products split
        their outputs, not their sums, between threads, so the vectors are
        the same for every value (tested). On a machine busy with other
        work, several torch threads wait for each other: keep None there.
    memory : str, joblib.Memory or None, default=None
        Cache of the pair counts, in the style of ``Pipeline(memory=...)``:
        a folder or a ``joblib.Memory`` (a folder is read back memory-mapped,
        as ``joblib.Memory(folder, mmap_mode="r")`` does; give a ``Memory``
        that mode too, so that large counts are not loaded whole). The counts
        are then kept per
        time-gap bin, so one count of a training set serves every
        ``time_decay`` and ``embed_dim`` of a grid search; each gap is
        rounded to its bin (within 2.2%, see :func:`~skmed2vec.bin_gaps`),
        so the vectors differ slightly from those without a cache.
    random_state : int, RandomState instance or None, default=None
        Seeds initial vectors, shuffling and negatives.
    verbose : int, default=0
        0 prints nothing. 1 or more prints the loss and speed of each epoch and
        shows a progress bar of the epochs (tqdm, on standard error). The same
        messages always go to the ``skmed2vec`` logger at INFO level.

    Attributes
    ----------
    codes_ : ndarray of str of shape (n_codes,)
        Code of each row of ``code_vectors_``; ``codes_[0] == "<UNK>"``.
    vocabulary_ : dict of str to int
        Row of each code.
    code_vectors_ : ndarray of float32 of shape (n_codes, embed_dim)
        The code (target) vectors, read-only (copy them to change them). A
        code with no training events (``<UNK>`` when no code was pruned, or a
        code of a vocabulary fitted on other patients) has a zero vector, unless
        ``initial_vectors`` gave it one.
    context_vectors_ : ndarray of float32 of shape (n_codes, embed_dim)
        The context vectors (used by ``score``).
    code_counts_ : ndarray of int64 of shape (n_codes,)
        Training events per code.
    code_vocabulary_ : CodeVocabulary or None
        The default vocabulary fitted when ``fit`` received raw timelines.
    time_kind_ : {"datetime", "days"}
        Whether the training times were dates or plain numbers of days;
        ``transform`` refuses timelines of the other kind.
    loss_curve_ : list of float
        Training loss of each epoch per unit of pair weight (the weighted loss
        summed over the epoch divided by the summed temporal weights), so its
        scale does not depend on the corpus size or on ``chunk_events``; NaN
        when no pair has a positive weight (``fit`` then warns).
    n_iter_ : int
        Epochs run.
    n_initialized_ : int
        Codes whose vectors started from ``initial_vectors`` (0 without it).
    code_idf_ : ndarray of float64 of shape (n_codes,) or None
        Smoothed inverse document frequency of each code over the training
        timelines, ``ln((1 + n) / (1 + df)) + 1`` (``n`` timelines with events,
        ``df`` of them holding the code), for ``code_weighting="idf"``. The
        same from :meth:`fit_counts` on the counts of the same timelines;
        None from counts saved by an earlier version, which do not hold the
        timelines per code.

    See Also
    --------
    CodeVocabulary : Thresholds, grouping and unknown codes before this step.

    Notes
    -----
    Events after a patient's prediction time are ignored by ``fit``,
    ``transform`` and ``score``. An empty timeline (or one with every event
    after its prediction time) gives a row of zeros.

    Examples
    --------
    >>> from skmed2vec import TemporalMed2VecEmbedder
    >>> X = [[(0, "E11.9"), (2, "I10"), (30, "J45")], [(0, "E11.9"), (1, "I10")]] * 20
    >>> emb = TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0).fit(X)
    >>> emb.transform(X).shape
    (40, 16)
    >>> sorted(emb.codes_.tolist())
    ['<UNK>', 'E11.9', 'I10', 'J45']
    """

    _parameter_constraints = {
        "embed_dim": [Interval(Integral, 1, None, closed="left")],
        "time_decay": [Interval(Real, 0, None, closed="left")],
        "recency_decay": [Interval(Real, 0, None, closed="left"), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "max_gap": [Interval(Real, 0, None, closed="left"), None],
        "negative": [Interval(Integral, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "objective": [StrOptions({"negative_sampling", "softmax"})],
        "aggregation": [StrOptions(set(AGGREGATIONS)), list, tuple],
        "code_weighting": [StrOptions(set(CODE_WEIGHTINGS)), None],
        "chunk_events": [Interval(Integral, 1, None, closed="left")],
        "initial_vectors": "no_validation",
        "device": [str],
        "n_jobs": N_JOBS,
        "memory": [None, str, HasMethods(["cache"])],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        embed_dim=128,
        time_decay=0.0,
        recency_decay=0.01,
        window=5,
        max_gap=None,
        negative=5,
        epochs=5,
        batch_size=1024,
        learning_rate=0.2,
        objective="negative_sampling",
        aggregation=("recency", "mean"),
        code_weighting=None,
        chunk_events=250_000,
        initial_vectors=None,
        device="cpu",
        n_jobs=None,
        memory=None,
        random_state=None,
        verbose=0,
    ):
        self.embed_dim = embed_dim
        self.time_decay = time_decay
        self.recency_decay = recency_decay
        self.window = window
        self.max_gap = max_gap
        self.negative = negative
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.objective = objective
        self.aggregation = aggregation
        self.code_weighting = code_weighting
        self.chunk_events = chunk_events
        self.initial_vectors = initial_vectors
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.random_state = random_state
        self.verbose = verbose

    # -- validation ----------------------------------------------------------
    def _aggregations(self):
        aggs = [self.aggregation] if isinstance(self.aggregation, str) else list(self.aggregation)
        bad = [a for a in aggs if a not in AGGREGATIONS]
        if not aggs or bad or len(set(aggs)) < len(aggs):
            raise ValueError(
                f"aggregation must be one of {AGGREGATIONS} or a non-empty list of "
                f"them, each at most once; got {self.aggregation!r}."
            )
        return aggs

    def _check_device(self):
        """A device other than the CPU is checked before any counting (it imports torch)."""
        if str(self.device) != "cpu":
            from ._trainer import resolve_device

            resolve_device(self.device)

    def _code_weights(self):
        """Per-code weights of the mean blocks for ``code_weighting`` (None: none)."""
        return code_weights_for(self.code_weighting, getattr(self, "code_idf_", None))

    def _recency_decay(self):
        decay = self.time_decay if self.recency_decay is None else self.recency_decay
        if isinstance(decay, bool) or not isinstance(decay, Real) or not 0 <= decay < np.inf:
            name = "time_decay" if self.recency_decay is None else "recency_decay"
            raise ValueError(f"{name} (the rows' decay) must be finite and >= 0; got {decay!r}.")
        return decay

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn code vectors from training timelines.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines
            Raw timelines (a default :class:`CodeVocabulary` is then fitted) or
            the output of a fitted :class:`CodeVocabulary`.
        y : None
            Ignored.

        Returns
        -------
        self : TemporalMed2VecEmbedder
        """
        self._aggregations()
        self._check_device()
        # Fitted attributes, the vocabulary included, are only set once training
        # succeeded: a failed or interrupted refit leaves the previous fit intact.
        X = as_timelines(X)
        vocabulary = None if X.is_encoded else CodeVocabulary(n_jobs=self.n_jobs)
        X = (X if vocabulary is None else vocabulary.fit_transform(X)).up_to_prediction()
        if X.n_events == 0:
            raise ValueError("X has no events (up to the prediction times) to learn from.")
        pairs = idf = None
        if self.objective == "negative_sampling":
            self._report(f"counting window pairs of {X.n_events:,} events, {len(X):,} samples")
            counts = self._count_pairs(X)
            try:
                pairs = _training_rows(counts, self.time_decay, owned=True)
                idf = counts.idf()
            finally:
                del counts  # its files go now, not with a traceback kept after a failure
            where = " (in a temporary file)" if pairs.on_disk else ""
            self._report(f"{len(pairs):,} distinct pairs{where}")
        code_counts = np.bincount(X.codes, minlength=len(X.code_names)).astype(np.int64)
        try:
            if idf is None:
                # "softmax" counts no pairs, and counts cached by an earlier version
                # hold no document counts: take them from the timelines.
                idf = inverse_document_frequency(X)
            self._train(X, code_counts, X.code_names, X.time_kind, pairs, idf)
        finally:
            if pairs is not None:
                pairs.close()
        self.code_vocabulary_ = vocabulary
        return self

    def _count_pairs(self, X):
        """Pair counts of ``X``: per gap bin through ``memory`` if set, else for this decay."""
        from ._parallel import count_pairs

        if self.memory is None:
            return count_pairs(
                X,
                window=self.window,
                time_decay=self.time_decay,
                max_gap=self.max_gap,
                n_jobs=self.n_jobs,
                chunk_events=self.chunk_events,
                verbose=self.verbose,
            )
        memory = self.memory
        if isinstance(memory, str):
            # Cache hits stay in the cache's files, memory-mapped (as counts above
            # the memory budget are), rather than loaded whole whatever their size.
            memory = joblib.Memory(memory, mmap_mode="r", verbose=0)
        cached = check_memory(memory).cache(_binned_pair_counts, ignore=["n_jobs"])
        return cached(
            X.codes, X.times, X.offsets, X.code_names, X.time_kind,
            self.window, self.max_gap, self.chunk_events, self.n_jobs,
        )  # fmt: skip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_counts(self, counts):
        """Learn code vectors from pair counts, e.g. summed over MEDS shards.

        With the same ``random_state``, the vectors are those :meth:`fit`
        learns from all the (encoded) patients whose counts were added up.

        Parameters
        ----------
        counts : PairCounts
            From :func:`~skmed2vec.count_pairs` with this embedder's
            ``window`` and ``max_gap``, and its ``time_decay`` or None
            (counts per gap bin), or a sum of them.

        Returns
        -------
        self : TemporalMed2VecEmbedder
        """
        from ._counting import PairCounts

        self._aggregations()
        self._check_device()
        if not isinstance(counts, PairCounts):
            raise TypeError(f"counts must be PairCounts; got {type(counts).__name__}.")
        if self.objective != "negative_sampling":
            raise ValueError(
                f"fit_counts trains objective='negative_sampling' only; got {self.objective!r}."
            )
        for name in ("window", "max_gap"):
            mine = getattr(self, name)
            mine = None if mine is None else float(mine)
            theirs = getattr(counts, name)
            if mine != (None if theirs is None else float(theirs)):
                raise ValueError(
                    f"counts were made with {name}={theirs!r} but this embedder has "
                    f"{name}={getattr(self, name)!r}; count with the same {name}."
                )
        if counts.code_counts.sum() == 0:
            raise ValueError("counts hold no events to learn from.")
        with _training_rows(counts, self.time_decay) as pairs:
            self._train(
                None, counts.code_counts, counts.code_names, counts.time_kind, pairs, counts.idf()
            )
        self.code_vocabulary_ = None
        return self

    def _train(self, X, counts, codes, time_kind, pairs, idf=None):
        """Train and set the fitted attributes (all of them but ``code_vocabulary_``)."""
        self._aggregations()
        # The torch side is imported here, not with the module: transform,
        # score and unpickling never need it.
        from . import _trainer

        settings = _trainer.Settings(
            embed_dim=self.embed_dim,
            time_decay=self.time_decay,
            window=self.window,
            max_gap=self.max_gap,
            objective=self.objective,
            negative=self.negative,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            chunk_events=self.chunk_events,
            device=_trainer.resolve_device(self.device),
            threads=_trainer.training_threads(self.n_jobs),
        )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        initial = None
        if self.initial_vectors is not None:
            initial = initial_rows(self.initial_vectors, codes, self.embed_dim)
        with self._progress(self.epochs, "epochs", unit="epoch") as bar:
            vectors, context, losses = _trainer.train(
                X, counts, settings, seed=seed, report=bar.step, initial=initial, pairs=pairs
            )
        # A code without training events (<UNK> when nothing was pruned, codes of a
        # vocabulary fitted elsewhere) learned nothing: zero, not its random start.
        untrained = np.asarray(counts) == 0
        if initial is not None:
            untrained[initial[0]] = False
        vectors[untrained] = 0.0
        context[untrained] = 0.0
        codes = np.asarray(codes)
        self.codes_ = codes
        self.vocabulary_ = {code: i for i, code in enumerate(codes.tolist())}
        self.code_vectors_, self.context_vectors_ = read_only(vectors), read_only(context)
        self.code_counts_ = counts
        self.time_kind_ = time_kind or "days"
        self.loss_curve_ = losses
        self.n_iter_ = len(losses)
        self.n_initialized_ = 0 if initial is None else len(initial[0])
        self.code_idf_ = idf

    # -- transform -----------------------------------------------------------
    def transform(self, X):
        """One feature row per patient from the events up to its prediction time.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines

        Returns
        -------
        ndarray of float32 of shape (n_patients, n_features)
            A DataFrame under ``set_output(transform="pandas")``, indexed like
            ``X``: by ``(subject_id, prediction_time)`` when ``X`` came from
            :func:`~skmed2vec.events_to_timelines`.
        """
        check_is_fitted(self, "code_vectors_")
        X = self._encoded_input(X)
        aggregations = self._aggregations()
        features = patient_features(
            self.code_vectors_, X, self._recency_decay(), aggregations, self._code_weights()
        )
        if _get_output_config("transform", self)["dense"] == "pandas":
            return pd.DataFrame(features, index=X.index, columns=self.get_feature_names_out())
        return features

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``"<aggregation>_<dimension>"``.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "code_vectors_")
        dim = self.code_vectors_.shape[1]
        return np.asarray(
            [f"{agg}_{k}" for agg in self._aggregations() for k in range(dim)], dtype=object
        )

    # -- score ---------------------------------------------------------------
    def score(self, X, y=None):
        """Label-free next-codes AUC: higher is better, 0.5 is chance.

        How well the patient rows built up to a time rank the codes that
        occur in the following 30 days against codes that do not. For up to
        20,000 (patient, time) anchors that have a later event within 30
        days, the recency-weighted mean of the code vectors of the anchor's
        history (its patient's events up to it, the 1,000 most recent of
        them; as ``transform`` builds it at a prediction time, with each
        code's inverse document frequency under ``code_weighting="idf"``)
        scores every code by its dot product with the code's context vector.
        Against each anchor, 20 codes are drawn from the training frequencies
        (the unigram distribution, not raised to a power) and those that
        follow the anchor are set aside; one code is drawn among those that
        do follow. The score is the share, over all anchors together, of
        such (following, not following) pairs ranked the right way, ties
        counting one half. Anchors and draws use a fixed seed, taken in the
        order of the samples (the same patients in another order can score a
        few thousandths apart), and the measure depends neither on the
        training pairs' weighting nor on the scale of the vectors, so
        candidates differing in ``time_decay`` or ``embed_dim`` are compared
        on the same anchors and codes.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines
        y : None
            Ignored.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``X`` has nothing to rank: no known code following an event
            within 30 days, or no known code that does not.
        """
        check_is_fitted(self, "code_vectors_")
        X = self._encoded_input(X)
        return next_codes_auc(
            self.code_vectors_,
            self.context_vectors_,
            self.code_counts_,
            X,
            self._recency_decay(),
            HORIZON_DAYS,
            code_weights=self._code_weights(),
        )


def _training_rows(counts, time_decay, owned=False):
    """The training rows of pair counts; temporary files of the totals go, whatever happens.

    On a failure (an interrupt while the totals are summed, a full disk), the
    files of counts ``owned`` by the caller's fit go too, at once: the frames
    of a kept traceback hold the counts. Counts given to ``fit_counts`` are
    the user's and stay.
    """
    chunks = None
    try:
        n_rows, chunks = counts.pair_weight_chunks(time_decay)
        return TrainingRows.from_chunks(n_rows, chunks)
    except BaseException:
        if owned:
            release(counts)
        raise
    finally:
        if chunks is not None:
            chunks.close()
        del counts


def _binned_pair_counts(
    codes, times, offsets, code_names, time_kind, window, max_gap, chunk, n_jobs
):
    """Pair counts per gap bin of encoded timelines; its arguments key the ``memory`` cache."""
    from ._parallel import count_pairs
    from ._timelines import Timelines

    X = Timelines(codes, times, offsets, code_names=code_names, time_kind=time_kind, presorted=True)
    return count_pairs(
        X, window=window, time_decay=None, max_gap=max_gap, n_jobs=n_jobs, chunk_events=chunk
    )
