"""Untrusted side of compact-proofs: model, training, float analysis, proof search, exporters.

Nothing here is trusted: every claim written to a certificate is re-established by the
independent exact checker in ``checker/``.
"""
