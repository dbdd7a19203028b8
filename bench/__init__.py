"""Gaiwan's benchmark: echo task latency and throughput beside a bare gRPC/TLS round trip.

Run from the repository root: `python -m bench` (or `make bench`). It starts its own platform in a
temporary data directory on free ports, so it never touches a platform you are running.
"""
