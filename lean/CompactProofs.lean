/- Root of the Lean 4 port of coq/theories (see docs/lean.md).
   So far only the statement (Model.lean, the counterpart of coq/theories/Model.v). -/
import CompactProofs.Model
