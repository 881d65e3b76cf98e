"""The edge cache server: origins, cache policies, connection limits, HTTP."""

from .node import Edge, EdgeConfig, EdgeStats
from .server import LIBS, EdgeThread, content_type, parse_range, start

__all__ = ["Edge", "EdgeConfig", "EdgeStats", "EdgeThread", "LIBS", "content_type", "parse_range", "start"]
