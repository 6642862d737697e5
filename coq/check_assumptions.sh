#!/usr/bin/env bash
# Fails unless every final theorem (check/Assumptions.v) depends only on the axioms of
# Coq's real-number library (and the classical logic it and Flocq/Interval use). Anything
# else fails the check: a user Axiom, an Admitted lemma, or the primitive-integer
# specification (PrimInt63.* / Uint63.*) that Interval's BigInt floats would bring in
# (Enclosure.v uses its binary-Z floats, StdZRadix2, instead).
# Run after the project is built (build.sh does both). Usage: check_assumptions.sh [FILE.v]
# (default check/Assumptions.v; the tests pass other files of Print Assumptions commands).
set -euo pipefail
cd "$(dirname "$0")"
ALLOWED="ClassicalDedekindReals.sig_not_dec
ClassicalDedekindReals.sig_forall_dec
FunctionalExtensionality.functional_extensionality_dep
Classical_Prop.classic"
status=0
if grep -nE '\b(Admitted|admit|Axiom|Axioms|Parameter|Conjecture|Hypothesis)\b' theories/*.v instances/*.v \
     | grep -vE '^\S+:[0-9]+:\s*(\(\*|Hypothesis H[A-Za-z]* :)' ; then
  # (Section Hypotheses are discharged at End Section; the grep below on Print Assumptions is the real test.)
  echo "check_assumptions: the lines above look like admitted proofs or axioms" >&2
  status=1
fi
file="${1:-check/Assumptions.v}"
out=$(coqc -R theories CompactProofs -R instances CompactProofs.Instances "$file" 2>&1)
if ! grep -q '^Axioms:' <<<"$out" && ! grep -q 'Closed under the global context' <<<"$out"; then
  echo "check_assumptions: no Print Assumptions output:" >&2; echo "$out" >&2; exit 1
fi
# Print Assumptions lists one axiom per entry, its name at column 0 (the type may follow
# on the same line after " : " or on indented lines below).
used=$( (grep -E '^[A-Za-z_]' <<<"$out" || true) | (grep -vE '^(Axioms:|Closed under the global context)' || true) \
       | awk '{print $1}' | sort -u)
for ax in $used; do
  if ! grep -qxF "$ax" <<<"$ALLOWED"; then
    echo "check_assumptions: disallowed assumption: $ax" >&2
    status=1
  fi
done
n=$(grep -c '^Axioms:\|Closed under the global context' <<<"$out")
echo "check_assumptions: $n theorems checked; assumptions used: $(tr '\n' ' ' <<<"$used")"
exit $status
