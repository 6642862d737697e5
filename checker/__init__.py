"""The small trusted checker of compact-proofs.

Standard library only (numpy integer arrays are allowed in strategy modules where a check
could not run in time otherwise). Never imports the untrusted side (extract/), never reads
or computes a float. Every number is an integer, a Fraction, or a dyadic matrix of integers.
"""
