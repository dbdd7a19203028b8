"""Gaiwan's default Cedar schema and policies, shipped as package data."""
