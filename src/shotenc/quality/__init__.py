"""Quality engine: VMAF measurement, rate-quality hulls, per-shot optimizers, and comparisons."""
