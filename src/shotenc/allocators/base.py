"""Allocation: the rate point of every (shot, rung). The seam where optimizers plug in.

An :class:`Allocator` takes the analysis and the fitted rungs and returns an :class:`EncodePlan`.
Each allocator is one module in this folder; subclasses register themselves by ``name``, which is
what ``shotenc encode --mode`` offers.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import ClassVar

from ..analysis.analyze import Analysis
from ..analysis.shots import Shot
from ..codecs import RatePoint
from ..ladder import Rung


@dataclass
class EncodePlan:
    allocator: str
    rungs: list[Rung]
    shots: list[Shot]
    points: dict[str, list[RatePoint]]  # rung id -> one point per shot
    details: dict = field(default_factory=dict)  # allocator-specific extras for the report

    def point(self, rung_id: str, shot_index: int) -> RatePoint:
        return self.points[rung_id][shot_index]

    def size(self, rung: Rung, shot_index: int) -> tuple[int, int]:
        """The picture size of one shot of ``rung`` (the rung's own unless the plan picked another)."""
        p = self.points[rung.id][shot_index]
        return (p.width or rung.width, p.height or rung.height)

    def resizes(self, rung: Rung) -> bool:
        """Whether ``rung``'s shots are not all of one size (its stream then carries parameter sets in band)."""
        return len({self.size(rung, s.index) for s in self.shots}) > 1


@dataclass
class AllocatorOptions:
    """What a user may ask of an allocator; each takes the parts that apply to it."""

    target_vmaf: float | None = None  # a quality target instead of each rung's bitrate
    auto_ladder: bool = False  # choose each rung's size from the hulls (a per-title ladder)
    model_file: str | None = None  # a fitted rate-quality model instead of the shipped one
    cache_dir: str | None = None  # where probe results are kept between runs
    per_shot_sizes: bool = True  # a mode that chooses sizes picks one per shot inside each rung (--fixed-size: no)


class Allocator:
    """Decides every (shot, rung) rate point. Subclasses set ``name`` and implement :meth:`allocate`."""

    name: ClassVar[str]
    summary: ClassVar[str] = ""  # one line for the CLI help
    probes: ClassVar[bool] = False  # makes probe encodes
    chooses_sizes: ClassVar[bool] = False  # can pick each rung's size (--ladder auto)
    takes_quality_target: ClassVar[bool] = False  # can aim at a VMAF (--target-vmaf)

    _registry: ClassVar[dict[str, type[Allocator]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            Allocator._registry[cls.name] = cls

    @classmethod
    def from_options(cls, options: AllocatorOptions) -> Allocator:
        return cls()

    def allocate(self, analysis: Analysis, rungs: list[Rung], executor: Executor | None = None) -> EncodePlan:
        """The plan for ``rungs``; probe encodes (if any) run on ``executor`` (a local pool when None)."""
        raise NotImplementedError
