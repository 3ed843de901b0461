"""
Does time decay help?
=====================

The planted cohort's outcome depends on recent history. Recency-weighted patient
vectors with ``time_decay > 0`` predict it better than plain averages (``time_decay=0``).
Run: ``python examples/pipeline/plot_time_decay.py``.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder
from skmed2vec.datasets import make_cohort
from skmed2vec.evaluation import cross_validated_auc, neighbour_precision

cohort = make_cohort(2000, random_state=0)
print(f"{'time_decay':>10} {'AUROC':>7} {'95% CI':>15} {'precision@5':>12}")
for time_decay in [0.0, 0.001, 0.01, 0.1, 1.0]:
    embedder = TemporalMed2VecEmbedder(embed_dim=32, time_decay=time_decay, random_state=0)
    pipe = make_pipeline(CodeVocabulary(), embedder, LogisticRegression(max_iter=1000))
    auc = cross_validated_auc(pipe, cohort.X, cohort.y, cv=3, n_bootstrap=200)
    precision = neighbour_precision(embedder.fit(cohort.X), cohort.groups, k=5).precision
    low, high = auc.auroc_ci
    print(f"{time_decay:>10} {auc.auroc:>7.3f} {f'[{low:.3f}, {high:.3f}]':>15} {precision:>12.3f}")
