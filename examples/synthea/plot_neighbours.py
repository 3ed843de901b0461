"""
Code embeddings of a Synthea extract
====================================

Fits a vocabulary and embedder on Synthea conditions, medications, care plans and
allergies, prints the neighbours of a few codes and scores them against the Synthea
module map and the drug -> indication pairs.
Run: ``python examples/synthea/plot_neighbours.py PATH/synthea-ohio-10k PATH/code_to_module.csv``.
"""

import sys

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
from skmed2vec.datasets import (
    load_synthea_events,
    load_synthea_indications,
    load_synthea_modules,
)
from skmed2vec.evaluation import neighbour_precision, recall_at_k

data_dir, modules_csv = sys.argv[1], sys.argv[2]
events = load_synthea_events(data_dir)
descriptions = events.drop_duplicates("code").set_index("code")["description"]
X, subject_ids = events_to_timelines(events)
vocabulary = CodeVocabulary(min_subjects=5)
embedder = TemporalMed2VecEmbedder(embed_dim=64, time_decay=0.01, epochs=20, random_state=0)
embedder.fit(vocabulary.fit_transform(X))
print(f"{len(subject_ids)} patients, {X.n_events} events, {len(embedder.codes_) - 1} codes")

for code in embedder.codes_[1:4]:
    print(f"\n{code} ({descriptions.get(code, '')}):")
    for neighbour, cosine in embedder.most_similar(code, topn=5):
        print(f"  {cosine:.2f}  {neighbour} ({descriptions.get(neighbour, '')})")

modules = load_synthea_modules(modules_csv)
precision = neighbour_precision(embedder, modules, k=10)
low, high = precision.interval()
print(f"\nneighbour precision@10: {precision.precision:.3f} [{low:.3f}, {high:.3f}] "
      f"(random {precision.baseline:.3f}, {precision.n_queries} codes)")
pairs = load_synthea_indications(data_dir)[["drug", "indication"]].itertuples(index=False)
recall = recall_at_k(embedder, list(pairs), k=10)
low, high = recall.interval()
print(f"drug -> indication recall@10: {recall.recall:.3f} [{low:.3f}, {high:.3f}] "
      f"({recall.n_pairs} pairs)")
