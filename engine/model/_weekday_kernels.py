"""numba kernel: a date moved within its week by weekday weights (engine/model/weekdays.py).
Arrays in, arrays out, no RNG (the caller passes uniforms); the naive reference is
``naive_shift`` in tests/engine/test_weekdays.py."""

from __future__ import annotations

import numpy as np

from engine._numba import kernel


@kernel
def _shift_within_week(values, low, high, weights, epoch_weekday, window, per_day, uniforms,
                       out):
    """out[i]: x + k days (x = values[i] in whole units, ``per_day`` units to a day), k in
    -window..window, inside [low[i], high[i]]; candidate c drawn with probability
    weights[weekday(c)] / total by inverse CDF of uniforms[i] (the first candidate whose
    running mass exceeds u * total). NaN stays NaN; a row whose candidates all weigh 0
    keeps x."""
    for i in range(values.shape[0]):
        x = values[i]
        out[i] = x
        if np.isnan(x):
            continue
        first_weekday = (np.int64(np.floor(x / per_day)) - window + epoch_weekday) % 7
        total = 0.0
        last = x
        for k in range(2 * window + 1):
            c = x + (k - window) * per_day
            if low[i] <= c <= high[i]:
                total += weights[(first_weekday + k) % 7]
                last = c
        if not total > 0.0:
            continue
        target = uniforms[i] * total
        running = 0.0
        for k in range(2 * window + 1):
            c = x + (k - window) * per_day
            if low[i] <= c <= high[i]:
                running += weights[(first_weekday + k) % 7]
                if running > target:
                    last = c
                    break
        out[i] = last
