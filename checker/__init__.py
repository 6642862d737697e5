"""The small trusted checker of compact-proofs: the verdict path and nothing else.

Standard library only (numpy integer arrays are allowed in strategy modules where a check
could not run in time otherwise). Never imports the untrusted side (extract/), never reads
or computes a float. Every number is an integer, a Fraction, or a dyadic matrix of integers.

Reading order (each module opens with the claim it establishes):

 1. cli.py, __main__.py   the command line: one line per file, exit codes
 2. verify.py             the verdict: certified >= claimed, any strategy failure is never acceptance
 3. load.py, validate.py  strict, bounded loading of the JSON file into a Certificate
 4. certificate.py        the format's definitions (name, version, weight hash) and the Certificate
 5. cost.py               the cost bound computed from the header before any heavy work
 6. registry.py           strategy name -> checker module (NAME, KNOBS, cost_bound, check)
 7. errors.py, ops.py     the one error type; the operation counter
 8. dyadic.py             exact dyadic numbers, vectors, matrices; the one spelling of outward rounding
 9. paths.py              the exact path matrices of docs/semantics.md
10. exp_bounds.py, exp_table.py, sqrt_bounds.py   certified enclosures (docs/proofs/enclosures.md)
11. decide.py             deciding one sequence exactly
12. strategies/           single_sequence.py, cubic.py, brute_force/ (sweep.py, tables.py),
                          subcubic/ (witness, linalg, eqke, direct, cases), each with its proof in
                          docs/proofs/<strategy>.md
"""
