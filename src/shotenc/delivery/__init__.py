"""Delivery: the edge cache, the ABR test player and the end-to-end validator.

They exist to prove that what the encoder writes actually streams: manifests parse, segments
switch cleanly, every rendition decodes, and an adaptive player on a realistic network gets a
good experience out of the ladder.
"""
