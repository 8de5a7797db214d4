"""A bounded reservoir of past rewards and the quantile rescaling of Graves et al. (2017)."""

from __future__ import annotations

import bisect
import math

import numpy as np

from autocurriculum._state import state_class
from autocurriculum.params import InvalidParameterError, check_probability, check_size

__all__ = ["MAX_RESERVOIR", "QuantileReservoir"]

#: The largest reservoir: each add shifts the sorted list, O(capacity), and a million values
#: are far past any useful quantile precision.
MAX_RESERVOIR = 10**6


@state_class
class QuantileReservoir:
    """A uniform sample of all rewards seen so far, kept sorted, for quantile rescaling.

    Rewards on an unknown scale (a loss drop, a score delta) are mapped to [-1, 1]: below the
    reservoir's ``low_quantile`` to -1, above its ``high_quantile`` to +1, linearly in between.
    The reservoir keeps at most ``capacity`` rewards by reservoir sampling (Vitter's algorithm
    R), so every past reward has the same chance to be in it. Kept sorted, each add costs
    O(log capacity) comparisons plus one list shift, and a quantile costs O(1).

    Parameters
    ----------
    capacity : int
        Maximum rewards kept, in [1, 1e6].
    low_quantile, high_quantile : float
        The quantiles mapped to -1 and +1, ``0 <= low_quantile < high_quantile <= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> res = QuantileReservoir(capacity=100, low_quantile=0.2, high_quantile=0.8)
    >>> rng = np.random.default_rng(0)
    >>> for r in [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]:
    ...     res.add(r, rng)
    >>> res.quantile(0.2), res.quantile(0.8)
    (1.0, 4.0)
    >>> res.rescale(-3.0), res.rescale(2.5), res.rescale(9.0)
    (-1.0, 0.0, 1.0)

    References
    ----------
    .. [1] Graves, Bellemare, Menick, Munos and Kavukcuoglu, "Automated Curriculum Learning
       for Neural Networks", ICML 2017.
    """

    def __init__(
        self, capacity: int = 1000, *, low_quantile: float = 0.2, high_quantile: float = 0.8
    ):
        self.capacity = check_size("capacity", capacity, high=MAX_RESERVOIR)
        self.low_quantile = check_probability("low_quantile", low_quantile)
        self.high_quantile = check_probability("high_quantile", high_quantile)
        if not self.low_quantile < self.high_quantile:
            raise InvalidParameterError(
                f"low_quantile must be < high_quantile, got low_quantile={low_quantile!r}, "
                f"high_quantile={high_quantile!r}"
            )
        self.slots: list[float] = []
        self.sorted: list[float] = []
        self.seen = 0

    def __len__(self) -> int:
        return len(self.slots)

    def add(self, value: float, rng: np.random.Generator) -> None:
        """Offer one reward to the reservoir (one ``rng.random()`` draw)."""
        self.offer(value, float(rng.random()))

    def offer(self, value: float, u: float) -> None:
        """Offer one reward; ``u``, uniform in [0, 1), decides its slot once the reservoir is full.

        Taking the draw as an argument lets a caller draw a batch's uniforms at once.
        """
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"reward must be finite, got {value!r}")
        self.seen += 1
        if len(self.slots) < self.capacity:
            self.slots.append(value)
            bisect.insort(self.sorted, value)
            return
        j = int(u * self.seen)
        if j < self.capacity:
            old = self.slots[j]
            self.slots[j] = value
            del self.sorted[bisect.bisect_left(self.sorted, old)]
            bisect.insort(self.sorted, value)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the reservoir (linear interpolation, as ``numpy.quantile``)."""
        if not self.sorted:
            raise ValueError("the reservoir is empty")
        pos = q * (len(self.sorted) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(self.sorted) - 1)
        frac = pos - lo
        a, b = self.sorted[lo], self.sorted[hi]
        return a + frac * (b - a) if frac else a

    def rescale(self, value: float) -> float:
        """Map ``value`` to [-1, 1] by the reservoir's ``low_quantile`` and ``high_quantile``.

        With an empty reservoir, or equal quantiles, the result is the sign of ``value``
        relative to that quantile (0 when equal).
        """
        s = self.sorted
        if not s:
            return 0.0
        last = len(s) - 1
        pos = self.low_quantile * last
        i = int(pos)
        lo = s[i] + (pos - i) * (s[min(i + 1, last)] - s[i]) if pos > i else s[i]
        pos = self.high_quantile * last
        i = int(pos)
        hi = s[i] + (pos - i) * (s[min(i + 1, last)] - s[i]) if pos > i else s[i]
        if value <= lo:
            return -1.0 if value < lo or hi > lo else 0.0
        if value >= hi:
            return 1.0
        return 2.0 * (value - lo) / (hi - lo) - 1.0
