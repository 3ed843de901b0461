"""The PyTorch core of skmed2vec: the skip-gram module, its losses and optimiser.

Importing this namespace imports torch. The estimators do not need it: they
load torch only while fitting, and a fitted model serves without it.

Examples
--------
>>> import torch
>>> from skmed2vec.nn import TemporalMed2Vec
>>> model = TemporalMed2Vec(10, 4)
>>> model.score(torch.ones(2, 4), torch.ones(2, 3, 4)).shape
torch.Size([2, 3])
"""

from ._core import *  # noqa: F403
from ._core import __all__  # noqa: F401
