"""Gaiwan: a confidential function-as-a-service platform."""
