"""Untrusted side of compact-proofs: model, training, float analysis, proof search, exporters.

Nothing here is trusted: every claim written to a certificate is re-established by the
independent exact checker in ``checker/``.

Reading order, bottom up (each module imports only modules above it in this list; the test
tests/test_import_graph.py enforces it, function-level imports included):

- leaves: ``config`` (model shape, training recipe), ``errors``, ``model`` (the transformer and
  its float paths), ``weights`` (model files), ``train``, ``accuracy`` (float brute force),
  ``certificate`` (the certificate writer), ``strategies`` (the catalogue), ``search/*`` (one
  untrusted search per strategy family), ``coq_export``;
- ``models`` (where models live, ``seed:S``, paper seeds, training on demand, recorded recipes),
  ``journal`` (the results format), ``executors`` (local, Dask, Ray);
- ``job`` (one certify-and-check job, model file to results row);
- ``sweep`` (scheduling), ``report`` (statistics and plots of results);
- ``run`` (the main job, ``compact-proofs run``);
- ``cli`` (the ``compact-proofs`` command: argument parsing only).
"""
