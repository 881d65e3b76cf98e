"""H.264 / AVC with x264."""

from __future__ import annotations

from .base import X26X_PRESETS, Codec, RatePoint


class H264(Codec):
    name = "h264"
    label = "H.264"
    order = 0
    encoder = "libx264"
    sample_entries = ("avc1", "avc3")
    in_band_entry = "avc3"
    default_preset = "faster"
    presets = X26X_PRESETS
    crf_range = (0.0, 51.0)
    probe_crfs = (17, 27, 37)
    train_crfs = (15, 21, 27, 33, 39, 45)
    crf_halving = 6.0
    cost = 1.0
    abr_prior = 1.0
    browser = True
    no_lookahead = ("ultrafast", "superfast")  # (x264's rc-lookahead 0: no macroblock tree)

    def rate_args(
        self, preset: str, rate: RatePoint, gop: int, threads: int, *, cap: bool, tight_abr: bool, in_band: bool
    ) -> list[str]:
        # a tight ABR tolerance: a chunk is short, its bitrate should be what the plan asked for
        tol = ":ratetol=0.1" if rate.kind == "bitrate" and tight_abr else ""
        args = ["-c:v", "libx264", "-preset", preset, "-profile:v", "high", *self.mux_args(in_band)]
        args += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-threads", str(threads)]
        args += ["-x264-params", f"open-gop=0:scenecut=0:repeat-headers={int(in_band)}{tol}"]
        args += self.quality_or_bitrate(rate, f"{rate.value:.2f}")
        return args + (self.vbv(rate) if cap else [])

    def mux_args(self, in_band: bool = False) -> list[str]:
        return ["-tag:v", "avc3"] if in_band else []

    def codec_string(self, entry: str, config: bytes, width: int, height: int, fps: float) -> str:
        # avcC: version, profile_idc, constraint flags, level_idc
        return f"{entry}.{config[1]:02X}{config[2]:02X}{config[3]:02X}"
