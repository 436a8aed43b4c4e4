"""HTTP concerns shared by every route: protocol parsing, safety, CORS, caching, guard, metrics,
access log.
"""
