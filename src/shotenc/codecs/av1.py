"""AV1 with SVT-AV1."""

from __future__ import annotations

from ..media.colour import CICP_MATRIX, CICP_PRIMARIES, CICP_TRANSFER, Colour
from .base import Codec, RatePoint


class AV1(Codec):
    name = "av1"
    label = "AV1"
    order = 3
    encoder = "libsvtav1"
    sample_entries = ("av01",)
    in_band_entry = "av01"  # sequence headers travel in the stream
    default_preset = "8"
    presets = tuple(str(n) for n in range(-1, 14))  # SVT-AV1's
    # SVT-AV1's whole-to-window ratio was x264's +2% to +9% on six of seven clips (a bias): lent, photos24's
    # AV1 lost 1.8 points of BD-rate and a rung landed 10% over
    borrows_whole_rate = False
    crf_range = (1.0, 63.0)
    crf_step = 1.0
    best_crf = 4.0
    probe_crfs = (24, 38, 52)
    train_crfs = (20, 29, 38, 47, 56)
    crf_halving = 12.0
    cost = 2.0
    abr_prior = 1.45
    browser = True
    ten_bit = True  # Main profile, 10 bits
    hdr = True

    def rate_args(
        self, preset: str, rate: RatePoint, gop: int, threads: int, *, cap: bool, tight_abr: bool, in_band: bool
    ) -> list[str]:
        args = ["-c:v", "libsvtav1", "-preset", preset, "-g", str(gop), "-svtav1-params", f"scd=0:lp={threads}"]
        if rate.kind == "bitrate":  # SVT-AV1 caps peaks only in CRF mode: plain VBR here
            return args + ["-b:v", f"{rate.value:.0f}k"]
        return args + ["-crf", f"{round(rate.value)}"] + (self.vbv(rate) if cap else [])

    def colour_args(self, args: list[str], colour: Colour) -> list[str]:
        """SVT-AV1's own colour description and HDR10 metadata (its sequence header and metadata OBUs)."""
        extra = []
        if colour.hdr:
            extra += [
                f"color-primaries={CICP_PRIMARIES.get(colour.primaries, 9)}",
                f"transfer-characteristics={CICP_TRANSFER[colour.video_range]}",
                f"matrix-coefficients={CICP_MATRIX.get(colour.matrix, 9)}",
                f"color-range={1 if colour.range == 'pc' else 0}",
            ]
        extra += self.hdr10_params(colour, _mastering_display, "content-light")
        return super().colour_args(self.extend_params(args, "-svtav1-params", extra), colour)

    def codec_string(self, entry: str, config: bytes, width: int, height: int, fps: float) -> str:
        # av1C: marker/version, seq_profile/seq_level_idx_0, tier/high_bitdepth/twelve_bit
        profile, level = config[1] >> 5, config[1] & 0x1F
        tier = "H" if config[2] & 0x80 else "M"
        high, twelve = bool(config[2] & 0x40), bool(config[2] & 0x20)
        depth = 12 if (high and twelve) else 10 if high else 8
        return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def _mastering_display(m: tuple[float, ...]) -> str:
    """SVT-AV1's ``mastering-display``: chromaticities and luminance (cd/m²) as decimals."""
    return (
        f"mastering-display=G({m[2]:.4f},{m[3]:.4f})B({m[4]:.4f},{m[5]:.4f})R({m[0]:.4f},{m[1]:.4f})"
        f"WP({m[6]:.4f},{m[7]:.4f})L({m[8]:.4f},{m[9]:.4f})"
    )
