"""HEVC / H.265 with x265, tagged ``hvc1`` (parameter sets in the sample entry, as Apple asks)."""

from __future__ import annotations

from ..media.colour import Colour
from .base import X26X_PRESETS, Codec, RatePoint


class HEVC(Codec):
    name = "hevc"
    label = "HEVC"
    order = 1
    encoder = "libx265"
    sample_entries = ("hvc1", "hev1")
    in_band_entry = "hev1"
    default_preset = "faster"
    presets = X26X_PRESETS
    crf_range = (0.0, 51.0)
    probe_crfs = (19, 29, 39)
    train_crfs = (17, 23, 29, 35, 41, 47)
    crf_halving = 6.0
    cost = 3.0
    abr_prior = 1.3
    browser = False  # Debian's Chromium has no HEVC decoder
    ten_bit = True  # Main10
    hdr = True

    def rate_args(
        self, preset: str, rate: RatePoint, gop: int, threads: int, *, cap: bool, tight_abr: bool, in_band: bool
    ) -> list[str]:
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error"
        if cap:
            params += f":vbv-maxrate={rate.maxrate_kbps:.0f}:vbv-bufsize={rate.bufsize_kbps:.0f}"
        if threads == 1:
            params += ":pools=1:frame-threads=1"
        if in_band:
            params += ":repeat-headers=1"
        args = ["-c:v", "libx265", "-preset", preset, *self.mux_args(in_band), "-x265-params", params]
        return args + self.quality_or_bitrate(rate, f"{rate.value:.2f}")

    def colour_args(self, args: list[str], colour: Colour) -> list[str]:
        """x265 writes HDR10's mastering display and content light level SEI from these."""
        extra = self.hdr10_params(colour, _master_display, "max-cll")
        return super().colour_args(self.extend_params(args, "-x265-params", extra), colour)

    def mux_args(self, in_band: bool = False) -> list[str]:
        return ["-tag:v", "hev1" if in_band else "hvc1"]

    def codec_string(self, entry: str, config: bytes, width: int, height: int, fps: float) -> str:
        # hvcC: general_profile_space/tier/profile, compatibility flags, constraint flags, level
        space = (config[1] >> 6) & 0x3
        tier = "H" if config[1] & 0x20 else "L"
        profile = config[1] & 0x1F
        compat = int.from_bytes(config[2:6], "big")
        compat_rev = int(f"{compat:032b}"[::-1], 2)
        constraints = list(config[6:12])
        while constraints and constraints[-1] == 0:
            constraints.pop()
        prefix = ["", "A", "B", "C"][space]
        parts = [entry, f"{prefix}{profile}", f"{compat_rev:X}", f"{tier}{config[12]}"]
        return ".".join(parts + [f"{b:X}" for b in constraints])


def _master_display(m: tuple[float, ...]) -> str:
    """x265's ``master-display``: chromaticities in 0.00002 units (H.265 D.3.28), luminance in 0.0001 cd/m²."""
    xy = [round(v / 0.00002) for v in m[:8]]
    return (
        f"master-display=G({xy[2]},{xy[3]})B({xy[4]},{xy[5]})R({xy[0]},{xy[1]})WP({xy[6]},{xy[7]})"
        f"L({round(m[8] * 10000)},{round(m[9] * 10000)})"
    )
