"""
A map of the code vectors
=========================

Codes that occur close in time in the same patients get close vectors. On the planted
cohort each disease group's codes come in bursts, so the groups should form clusters,
and each code's nearest neighbours should mostly be codes of its own group, far more
often than the frequency-matched random baseline.
"""

# %%
from skmed2vec import TemporalMed2VecEmbedder
from skmed2vec.datasets import make_cohort
from skmed2vec.plotting import CodeMapDisplay, NeighbourPrecisionDisplay

cohort = make_cohort(800, random_state=0)
embedder = TemporalMed2VecEmbedder(embed_dim=32, epochs=5, random_state=0).fit(cohort.X)

# %%
# Two dimensions by PCA, one colour per disease group; background codes are grey.
first_codes = [
    min(c for c, g in cohort.groups.items() if g == group) for group in cohort.risk_groups
]
display = CodeMapDisplay.from_estimator(embedder, groups=cohort.groups, label_codes=first_codes)

# %%
# Neighbour precision against k, with time decay and without: the dashed lines are
# what random neighbours of the same frequency would score.
flat = TemporalMed2VecEmbedder(embed_dim=32, epochs=5, time_decay=0.0, random_state=0)
flat.fit(cohort.X)
ks = [1, 2, 5, 10]
curve = NeighbourPrecisionDisplay.from_embeddings(
    embedder, cohort.groups, ks=ks, name="time_decay=0.01", n_bootstrap=200
)
NeighbourPrecisionDisplay.from_embeddings(
    flat, cohort.groups, ks=ks, name="time_decay=0", n_bootstrap=200, ax=curve.ax_
)
