"""
Tuning time decay
=================

The planted cohort's outcome depends on recent history, so patient vectors that weight
recent events more (``time_decay > 0``) should predict it better than plain averages
(``time_decay=0``); ``recency_decay=None`` makes one decay weight both the training
pairs and the patient rows. ``GridSearchCV`` tunes ``time_decay`` and ``embed_dim`` of a
``CodeVocabulary -> TemporalMed2VecEmbedder -> LogisticRegression`` pipeline, and
:class:`~skmed2vec.plotting.TuningCurveDisplay` draws the cross-validated AUROC of every
candidate, the chosen one starred.
"""

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder
from skmed2vec.datasets import make_cohort
from skmed2vec.plotting import TuningCurveDisplay

cohort = make_cohort(800, random_state=0)
pipe = make_pipeline(
    CodeVocabulary(min_subjects=5),
    TemporalMed2VecEmbedder(epochs=3, recency_decay=None, aggregation="recency", random_state=0),
    LogisticRegression(max_iter=1000),
)
grid = {
    "temporalmed2vecembedder__time_decay": [0.0, 0.001, 0.01, 0.1],
    "temporalmed2vecembedder__embed_dim": [8, 32],
}
cv = StratifiedKFold(3, shuffle=True, random_state=0)
search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=cv).fit(cohort.X, cohort.y)
print(search.best_params_, f"AUROC {search.best_score_:.3f}")

# %%
# Score against ``time_decay``, one line per ``embed_dim``; the band is one standard
# deviation over the folds.
display = TuningCurveDisplay.from_estimator(search)
display.ax_.set_title("Planted cohort: AUROC against time decay")
