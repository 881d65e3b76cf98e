"""Offline optimum: the best (and the worst) QoE any player could reach on a known trace (dynamic
programming).

State after each segment: (last rung, buffer level rounded to ``step_s``), keeping the best QoE
and its exact time and buffer. The transitions follow the same session rules as the player
(startup on the first segment, waiting at the buffer cap), so the player's fraction of this
figure is an honest "how much was left on the table". Rounding makes it a close approximation
of the true optimum, not a proof; a player can exceed it by a hair in rare cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network
from .session import SessionConfig, Title


@dataclass
class Optimum:
    qoe: float
    rungs: list[int]
    stall_s: float


def _best_per_state(key: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the highest score for each distinct key."""
    order = np.lexsort((-score, key))
    k_sorted = key[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = k_sorted[1:] != k_sorted[:-1]
    return order[first]


def offline_optimum(
    title: Title,
    network: Network,
    config: SessionConfig | None = None,
    step_s: float = 0.1,
    start_s: float = 0.0,
    worst: bool = False,
) -> Optimum:
    """The best QoE (or with ``worst``, the worst) over every choice of rungs."""
    cfg = config or SessionConfig()
    sign = -1.0 if worst else 1.0
    rates = np.array(title.bitrates_kbps, dtype=float)
    util = np.array(cfg.qoe.utilities(list(rates)))
    nr = len(rates)
    pen, smooth = cfg.qoe.rebuffer_penalty, cfg.qoe.smooth_penalty
    # state arrays
    t = np.array([start_s])
    buf = np.array([0.0])
    last = np.array([-1])
    score = np.array([0.0])
    stall_tot = np.array([0.0])
    back: list[tuple[np.ndarray, np.ndarray]] = []
    for n in range(title.n_segments):
        seg = title.segment_s[n]
        weight = seg / title.nominal_s
        bits = np.array(title.sizes_bits[n], dtype=float)
        s = len(t)
        # every (state, action) pair
        st = np.repeat(np.arange(s), nr)
        act = np.tile(np.arange(nr), s)
        b0 = buf[st]
        wait = np.maximum(0.0, b0 + seg - cfg.max_buffer_s) if n > 0 else 0.0
        t0 = t[st] + wait
        b0 = b0 - wait
        end = network.finish_times(t0, bits[act])
        dt = end - t0
        if n == 0:
            stall = dt + start_s  # startup counts as stall time in QoE_lin
            nb = np.full_like(dt, seg)
        else:
            stall = np.maximum(0.0, dt - b0)
            nb = np.maximum(0.0, b0 - dt) + seg
        prev = last[st]
        sw = np.where(prev >= 0, np.abs(util[act] - util[np.maximum(prev, 0)]), 0.0)
        sc = score[st] + util[act] * weight - pen * stall - smooth * sw
        keep = _best_per_state(act * 100000 + np.round(nb / step_s).astype(np.int64), sign * sc)
        t, buf, last, score = end[keep], nb[keep], act[keep], sc[keep]
        stall_tot = stall_tot[st[keep]] + np.where(n == 0, 0.0, stall[keep])
        back.append((st[keep], act[keep]))
    best = int(np.argmax(sign * score))
    rungs = []
    i = best
    for prev_idx, acts in reversed(back):
        rungs.append(int(acts[i]))
        i = int(prev_idx[i])
    rungs.reverse()
    return Optimum(float(score[best]), rungs, float(stall_tot[best]))


def bound_by_optimum(result, title: Title, network: Network, config: SessionConfig, start_s: float = 0.0) -> None:
    """Set a session's optimum, worst and fraction of the range between them."""
    best = offline_optimum(title, network, config, start_s=start_s)
    worst = offline_optimum(title, network, config, start_s=start_s, worst=True)
    result.bound(best.qoe, worst.qoe)
