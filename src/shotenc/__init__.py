"""shotenc: per-shot video encoding (shots → complexity → per-shot rate points → ladder → DASH/HLS)."""

__version__ = "0.1.0"
