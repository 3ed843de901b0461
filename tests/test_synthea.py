"""End to end on the Synthea extract beside the project (skipped where absent)."""

import numpy as np

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
from skmed2vec.datasets import load_synthea_events, load_synthea_indications, load_synthea_modules
from skmed2vec.evaluation import neighbour_precision, recall_at_k


def test_synthea_embeddings_recover_modules_and_indications(synthea_dir, modules_csv):
    events = load_synthea_events(synthea_dir)
    X, subject_ids = events_to_timelines(events)
    assert len(X) == len(subject_ids) == events["subject_id"].nunique()
    vocabulary = CodeVocabulary(min_subjects=5)
    embedder = TemporalMed2VecEmbedder(embed_dim=32, epochs=10, random_state=0)
    embedder.fit(vocabulary.fit_transform(X))
    assert np.isfinite(embedder.code_vectors_).all()

    modules = neighbour_precision(embedder, load_synthea_modules(modules_csv), k=10)
    assert modules.precision > 2 * modules.baseline
    pairs = load_synthea_indications(synthea_dir)[["drug", "indication"]]
    recall = recall_at_k(embedder, list(pairs.itertuples(index=False)), k=10)
    assert recall.n_pairs > 30
    assert recall.recall > 0.5

    features = embedder.transform(vocabulary.transform(X))
    assert features.shape == (len(X), 2 * 32)  # recency and mean blocks
    assert np.isfinite(features).all()
