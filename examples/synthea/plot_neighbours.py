"""
Code embeddings of a Synthea extract
====================================

Fits a vocabulary and embedder on Synthea conditions, medications, care plans and
allergies, prints the neighbours of a few codes, scores them against the Synthea module
map and the drug -> indication pairs, and draws the code map coloured by module and the
neighbour precision against k.

Not run when the documentation is built (it needs the data; about 10 seconds on two cores).
Run: ``python examples/synthea/plot_neighbours.py PATH/synthea-ohio-10k
PATH/code_to_module.csv``.
"""

# %%
import sys

import matplotlib.pyplot as plt

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
from skmed2vec.datasets import (
    load_synthea_events,
    load_synthea_indications,
    load_synthea_modules,
)
from skmed2vec.evaluation import recall_at_k
from skmed2vec.plotting import CodeMapDisplay, NeighbourPrecisionDisplay

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

# %%
# Recall of each drug's indication among its 10 nearest codes.
pairs = load_synthea_indications(data_dir)[["drug", "indication"]].itertuples(index=False)
recall = recall_at_k(embedder, list(pairs), k=10)
low, high = recall.interval()
print(
    f"drug -> indication recall@10: {recall.recall:.3f} [{low:.3f}, {high:.3f}] "
    f"({recall.n_pairs} pairs)"
)

# %%
# The code map, coloured by the Synthea module that emits each code, and the share of
# neighbours from the same module against k.
modules = load_synthea_modules(modules_csv)
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
CodeMapDisplay.from_estimator(embedder, groups=modules, show_ungrouped=False, ax=left)
NeighbourPrecisionDisplay.from_embeddings(
    embedder, modules, ks=[1, 2, 5, 10, 20], name="skmed2vec", ax=right
)
plt.show()
