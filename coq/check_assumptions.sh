#!/usr/bin/env bash
# Fails unless every final theorem (check/Assumptions.v) depends only on the axioms of
# Coq's real-number library (and the classical logic it and Flocq/Interval use), plus the
# standard library's specification of the kernel's primitive 63-bit integers
# (PrimInt63.* / Uint63.*), which the big-integer interval floats of Enclosure.v compute
# with. Any other axiom (a user Axiom, an Admitted lemma) fails the check.
# Run after the project is built (build.sh does both).
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
out=$(coqc -R theories CompactProofs -R instances CompactProofs.Instances check/Assumptions.v 2>&1)
if ! grep -q '^Axioms:' <<<"$out" && ! grep -q 'Closed under the global context' <<<"$out"; then
  echo "check_assumptions: no Print Assumptions output:" >&2; echo "$out" >&2; exit 1
fi
# Print Assumptions lists one axiom per entry, its name at column 0 (the type may follow
# on the same line after " : " or on indented lines below).
used=$(grep -E '^[A-Za-z_]' <<<"$out" | grep -vE '^(Axioms:|Closed under the global context)' \
       | awk '{print $1}' | sort -u)
for ax in $used; do
  case "$ax" in PrimInt63.*|Uint63.*) continue ;; esac
  if ! grep -qxF "$ax" <<<"$ALLOWED"; then
    echo "check_assumptions: disallowed assumption: $ax" >&2
    status=1
  fi
done
n=$(grep -c '^Axioms:\|Closed under the global context' <<<"$out")
prim=$(grep -cE '^(PrimInt63|Uint63)\.' <<<"$used" || true)
other=$(grep -vE '^(PrimInt63|Uint63)\.' <<<"$used" | tr '\n' ' ')
echo "check_assumptions: $n theorems checked; assumptions used: ${other}and $prim PrimInt63/Uint63 primitive-integer declarations/specifications"
exit $status
