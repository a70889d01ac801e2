"""Defaults of fit parameters that the Python API shows in its signatures.

They live here, not in the fit code that uses them, so ``Synthesizer`` can name them
without importing the cleaning (and pandas) when it only loads a model and samples.
"""

# A value written by fewer respondents than this is never emitted: one-off comments, names
# and codes single people out (the k of k-anonymity). Used by engine/cleaning/free_text.py.
TEXT_MIN_COUNT = 5
