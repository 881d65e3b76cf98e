"""AV1 with SVT-AV1."""

from __future__ import annotations

from .base import Codec, RatePoint


class AV1(Codec):
    name = "av1"
    label = "AV1"
    order = 3
    encoder = "libsvtav1"
    sample_entries = ("av01",)
    in_band_entry = "av01"  # sequence headers travel in the stream
    default_preset = "8"
    crf_range = (1.0, 63.0)
    crf_step = 1.0
    probe_crfs = (24, 38, 52)
    train_crfs = (20, 29, 38, 47, 56)
    cost = 2.0
    abr_prior = 1.45
    browser = True

    def rate_args(
        self, preset: str, rate: RatePoint, gop: int, threads: int, *, cap: bool, tight_abr: bool, in_band: bool
    ) -> list[str]:
        args = ["-c:v", "libsvtav1", "-preset", preset, "-g", str(gop), "-svtav1-params", f"scd=0:lp={threads}"]
        if rate.kind == "bitrate":  # SVT-AV1 caps peaks only in CRF mode: plain VBR here
            return args + ["-b:v", f"{rate.value:.0f}k"]
        return args + ["-crf", f"{round(rate.value)}"] + (self.vbv(rate) if cap else [])

    def codec_string(self, entry: str, config: bytes, width: int, height: int, fps: float) -> str:
        # av1C: marker/version, seq_profile/seq_level_idx_0, tier/high_bitdepth/twelve_bit
        profile, level = config[1] >> 5, config[1] & 0x1F
        tier = "H" if config[2] & 0x80 else "M"
        high, twelve = bool(config[2] & 0x40), bool(config[2] & 0x20)
        depth = 12 if (high and twelve) else 10 if high else 8
        return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"
