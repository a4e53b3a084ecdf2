"""Building blocks of the shipped sample archive (see ``examples/make_sample.py``).

Everything here is deterministic: fixed dates, fixed identifiers, no clock and
no randomness except a seeded generator for the one deliberately garbled file,
so regenerating the archive reproduces it byte for byte.
"""
