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
embedder = TemporalMed2VecEmbedder(embed_dim=32, epochs=5, time_decay=0.01, random_state=0)
embedder.fit(cohort.X)

# %%
# Two dimensions by PCA, one colour per disease group; background codes are grey.
first_codes = [
    min(c for c, g in cohort.groups.items() if g == group) for group in cohort.risk_groups
]
display = CodeMapDisplay.from_estimator(embedder, groups=cohort.groups, label_codes=first_codes)

# %%
# Neighbour precision against k: the share of each disease code's k nearest codes that
# belong to its own group; the dashed line is what random codes of the same frequency
# would score. A group has 6 codes, so beyond k=5 at most 5/k of the neighbours can share
# it: the curve falls because the groups run out, not because the vectors get worse.
NeighbourPrecisionDisplay.from_embeddings(
    embedder, cohort.groups, ks=[1, 2, 3, 5, 10, 20], name="skmed2vec", n_bootstrap=200
)
