"""Our reference rules reproduce Sabre's own per-trace figures (recorded from Sabre, see
tests/data/sabre/README.md), and the score is Sabre's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shotenc.delivery.player import abr
from shotenc.delivery.player.movie import load_movie
from shotenc.delivery.player.network import Network
from shotenc.delivery.player.session import SessionConfig, run_session
from shotenc.delivery.player.traces import load_trace

DATA = Path(__file__).resolve().parents[1] / "data"
FIGURES = json.loads((DATA / "sabre" / "figures.json").read_text())["sessions"]


@pytest.mark.parametrize("fig", FIGURES, ids=[f"{f['rule']}-{f['trace'][:-5]}" for f in FIGURES])
def test_rule_matches_sabre_on_a_trace(fig):
    title = load_movie(DATA / "traces" / fig["movie"])
    res = run_session(
        title,
        Network(load_trace(DATA / "traces" / fig["trace"])),
        abr.make(fig["rule"]),
        config=SessionConfig(max_buffer_s=25),
    )
    # Sabre prints six decimals
    assert res.sabre_score == pytest.approx(fig["score"], abs=2e-6)
    assert res.played_kbps == pytest.approx(fig["kbps"], abs=2e-3)
    assert res.rebuffer_ratio == pytest.approx(fig["rebuffer_ratio"], abs=2e-6)
    assert res.rebuffer_s == pytest.approx(fig["rebuffer_s"], abs=2e-6)
    assert res.play_s == pytest.approx(fig["play_s"], abs=2e-6)


def test_pinned_sessions_cover_abandonment_and_stalls():
    """The pinned traces exercise what makes the rules differ: abandoned downloads and rebuffering."""
    assert any(f["rebuffer_s"] > 1 for f in FIGURES)
    title = load_movie(DATA / "traces" / "bbb4k.json")
    res = run_session(
        title,
        Network(load_trace(DATA / "traces" / "sabre_4g_report_bicycle_0001.json")),
        abr.make("bola-e"),
        config=SessionConfig(max_buffer_s=25),
    )
    assert any("abandoned" in n for n in res.notes)
