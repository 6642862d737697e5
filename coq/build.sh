#!/usr/bin/env bash
# Build the whole Coq development (theories + instances) and check the assumptions of
# every final theorem. Usage: coq/build.sh [-jN]   (default -j2). Needs Debian's coq,
# libcoq-flocq, libcoq-interval (apt-get install coq libcoq-interval).
set -euo pipefail
cd "$(dirname "$0")"
jobs="${1:--j2}"
command -v coqc >/dev/null || { echo "coq/build.sh: coqc not found (apt-get install coq libcoq-interval)" >&2; exit 1; }
start=$(date +%s)
coq_makefile -f _CoqProject -o Makefile.coq
make -f Makefile.coq "$jobs"
./check_assumptions.sh
echo "coq/build.sh: built and checked in $(( $(date +%s) - start )) s"
