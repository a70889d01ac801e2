"""numba kernel: a date moved within its week by weekday weights (engine/model/weekdays.py).
Arrays in, arrays out, no RNG (the caller passes uniforms); the naive reference is
``naive_shift`` in tests/engine/test_weekdays.py."""

from __future__ import annotations

import numpy as np

from engine._numba import kernel


@kernel
def _shift_within_week(values, low, high, weights, epoch_weekday, window, uniforms, out):
    """out[i]: a day of [x - window, x + window] inside [low[i], high[i]] (x = values[i],
    whole days), day c drawn with probability weights[weekday(c)] / total by inverse CDF
    of uniforms[i] (the first day whose running mass exceeds u * total). NaN stays NaN; a
    row whose days all weigh 0 keeps x."""
    for i in range(values.shape[0]):
        x = values[i]
        out[i] = x
        if np.isnan(x):
            continue
        first = max(x - window, low[i])
        last = min(x + window, high[i])
        total = 0.0
        day = first
        while day <= last:
            total += weights[(np.int64(day) + epoch_weekday) % 7]
            day += 1.0
        if not total > 0.0:
            continue
        target = uniforms[i] * total
        running = 0.0
        day = first
        while day <= last:
            running += weights[(np.int64(day) + epoch_weekday) % 7]
            if running > target:
                break
            day += 1.0
        out[i] = min(day, last)
