"""The transport package exports a deliberate list."""

import gaiwan.transport


def test_public_surface():
    """Only the transport, its limits, its error, its fusion store and the scheme lists are
    public."""
    assert sorted(gaiwan.transport.__all__) == [
        "FusionStore", "INPUT_SCHEMES", "Limits", "OUTPUT_SCHEMES", "Transport", "TransportError"]
    assert all(hasattr(gaiwan.transport, name) for name in gaiwan.transport.__all__)
