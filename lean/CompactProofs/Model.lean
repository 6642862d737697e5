/-
The accuracy theorem of a one-layer attention-only Max-of-K transformer: the STATEMENT.

Lean 4 counterpart of coq/theories/Model.v, definition by definition, in the same order and
with the same names (table at the end of the file). Nothing here is optimised and nothing is
proved: the checkers, the enclosures and the soundness theorems are later steps.

Conventions (matching docs/semantics.md and Model.v):
- a weight tensor is stored as integer mantissas and one power-of-two exponent; entry (i, j)
  denotes the exact real `mantissa(i, j) * 2 ^ exponent`; indices out of range read as 0, and
  `well_formed` (below) says that no index the definitions use is out of range: every tensor
  has its declared rows x cols;
- matrices are functions `ℕ → ℕ → ℝ`; `mmul k A B` is the product whose inner dimension is `k`;
- the last position's residual stream is `E_q = E + P[n-1]`;
- scores are divided by `Real.sqrt d_head`; the softmax runs over all n positions;
- finite sums are `rsum`, defined by recursion exactly as in Model.v (not `Finset.sum`).

This file is not compiled on the development machine (no Lean there): only by the GitHub
workflow .github/workflows/lean.yml, against the versions pinned in lean/lean-toolchain and
lean/lakefile.toml.
-/
import Mathlib

namespace CompactProofs

noncomputable section

/-! ## Weights -/

/-- A weight tensor: a matrix of integer mantissas (row `i` is `mantissas[i]`) and one binary
exponent shared by every entry. Coq: `Record tensor := mk_tensor { mantissas; exponent }`. -/
structure tensor where
  mk_tensor ::
  /-- The integer mantissas, row by row. -/
  mantissas : List (List ℤ)
  /-- The power of two every mantissa is multiplied by. -/
  exponent : ℤ

/-- The exact real value of entry `(i, j)`: `mantissa(i, j) * 2 ^ exponent` (`zpow`, integer
exponent); a missing row or column reads as mantissa 0, hence as the real 0.
Coq: `IZR (nth j (nth i (mantissas T) nil) 0%Z) * powerRZ 2 (exponent T)`. -/
def entry (T : tensor) (i j : ℕ) : ℝ :=
  (((T.mantissas.getD i []).getD j 0 : ℤ) : ℝ) * (2 : ℝ) ^ T.exponent

/-- The model: its dimensions (v = `d_vocab`, n = `n_ctx`, d = `d_model`, `d_head`) and its seven
weight tensors, named as in the certificate. Shapes as in docs/semantics.md. -/
structure model where
  mk_model ::
  /-- v: number of tokens. -/
  d_vocab : ℕ
  /-- n: sequence length. -/
  n_ctx : ℕ
  /-- d: width of the residual stream. -/
  d_model : ℕ
  /-- width of the single attention head. -/
  d_head : ℕ
  /-- token embedding, v x d. -/
  W_E : tensor
  /-- position embedding, n x d. -/
  W_pos : tensor
  /-- query weights, d x d_head. -/
  W_Q : tensor
  /-- key weights, d x d_head. -/
  W_K : tensor
  /-- value weights, d x d_head. -/
  W_V : tensor
  /-- output weights, d_head x d. -/
  W_O : tensor
  /-- unembedding, d x v. -/
  W_U : tensor

/-- `T` has exactly `r` rows of exactly `c` mantissas each.
Coq: `length (mantissas T) = r /\ Forall (fun row => length row = c) (mantissas T)`. -/
def has_shape (r c : ℕ) (T : tensor) : Prop :=
  T.mantissas.length = r ∧ ∀ row ∈ T.mantissas, row.length = c

/-- Every tensor has the shape its field comment declares (v = `d_vocab`, n = `n_ctx`,
d = `d_model`), so every entry the definitions below read is a stored mantissa. -/
def well_formed (M : model) : Prop :=
  has_shape M.d_vocab M.d_model M.W_E ∧
  has_shape M.n_ctx M.d_model M.W_pos ∧
  has_shape M.d_model M.d_head M.W_Q ∧
  has_shape M.d_model M.d_head M.W_K ∧
  has_shape M.d_model M.d_head M.W_V ∧
  has_shape M.d_head M.d_model M.W_O ∧
  has_shape M.d_model M.d_vocab M.W_U

/-! ## Finite sums and matrix products -/

/-- `rsum k f = f 0 + f 1 + ... + f (k - 1)` (0 for `k = 0`), by recursion on `k`, adding the
last term on the right, exactly as Coq's `Fixpoint rsum`. -/
def rsum (k : ℕ) (f : ℕ → ℝ) : ℝ :=
  match k with
  | 0 => 0
  | k' + 1 => rsum k' f + f k'

/-- A real matrix, as a function of (row, column); it has no size of its own. An `abbrev` (a
reducible definition) so that a `matrix` can be applied and built with `fun` directly. -/
abbrev matrix := ℕ → ℕ → ℝ

/-- The product of `A` and `B` with inner dimension `inner`:
`(mmul inner A B) i j = sum over l < inner of A i l * B l j`. -/
def mmul (inner : ℕ) (A B : matrix) : matrix :=
  fun i j => rsum inner (fun l => A i l * B l j)

/-- The transpose: `(transpose A) i j = A j i`. -/
def transpose (A : matrix) : matrix := fun i j => A j i

/-! ## Path matrices (docs/semantics.md, table "matrix / definition")

In Coq these sit in `Section Paths` with `Variable M : model`; here each takes `M` explicitly
as its first argument (what Coq's section closing produces). -/

section Paths

/-- E = W_E as a real matrix (v x d). -/
def mE (M : model) : matrix := entry M.W_E
/-- P = W_pos as a real matrix (n x d). -/
def mP (M : model) : matrix := entry M.W_pos
/-- Q = W_Q as a real matrix (d x d_head). -/
def mQ (M : model) : matrix := entry M.W_Q
/-- K = W_K as a real matrix (d x d_head). -/
def mK (M : model) : matrix := entry M.W_K
/-- V = W_V as a real matrix (d x d_head). -/
def mV (M : model) : matrix := entry M.W_V
/-- O = W_O as a real matrix (d_head x d). -/
def mO (M : model) : matrix := entry M.W_O
/-- U = W_U as a real matrix (d x v). -/
def mU (M : model) : matrix := entry M.W_U

/-- The residual stream at the last position for query token `i`: `E_q = E + P[n-1]`
(natural subtraction, as in Coq). -/
def E_q (M : model) : matrix := fun i j => mE M i j + mP M (M.n_ctx - 1) j

/-- Direct path `EUPU = E_q U` (v x v, indexed by query token, then output token). -/
def EUPU (M : model) : matrix := mmul M.d_model (E_q M) (mU M)

/-- Value path of a key token `EVOU = E V O U` (v x v). -/
def EVOU (M : model) : matrix :=
  mmul M.d_model (mmul M.d_head (mmul M.d_model (mE M) (mV M)) (mO M)) (mU M)

/-- Value path of a key position `PVOU = P V O U` (n x v). -/
def PVOU (M : model) : matrix :=
  mmul M.d_model (mmul M.d_head (mmul M.d_model (mP M) (mV M)) (mO M)) (mU M)

/-- Token part of the score `EQKE = E_q Q K^T E^T` (v x v). -/
def EQKE (M : model) : matrix :=
  mmul M.d_model (mmul M.d_head (mmul M.d_model (E_q M) (mQ M)) (transpose (mK M)))
    (transpose (mE M))

/-- Position part of the score `EQKP = E_q Q K^T P^T` (v x n). -/
def EQKP (M : model) : matrix :=
  mmul M.d_model (mmul M.d_head (mmul M.d_model (E_q M) (mQ M)) (transpose (mK M)))
    (transpose (mP M))

/-! ## Last-position logits of a token sequence `t` -/

/-- The token at position `p` of `t` (0 past the end, as Coq's `nth p t 0`). -/
def tok (t : List ℕ) (p : ℕ) : ℕ := t.getD p 0

/-- The query token `q = t[n-1]`. -/
def query (M : model) (t : List ℕ) : ℕ := tok t (M.n_ctx - 1)

/-- The attention score of position `p`:
`s_p = (EQKE[q, t_p] + EQKP[q, p]) / sqrt d_head` (real square root of the natural `d_head`). -/
def score (M : model) (t : List ℕ) (p : ℕ) : ℝ :=
  (EQKE M (query M t) (tok t p) + EQKP M (query M t) p) / Real.sqrt (M.d_head : ℝ)

/-- The softmax weight of position `p` over all `n` positions:
`a_p = exp s_p / (sum over r < n of exp s_r)`. -/
def attn (M : model) (t : List ℕ) (p : ℕ) : ℝ :=
  Real.exp (score M t p) / rsum M.n_ctx (fun r => Real.exp (score M t r))

/-- The logit of output token `x` at the last position:
`EUPU[q, x] + sum over p < n of a_p * (EVOU[t_p, x] + PVOU[p, x])`. -/
def logit (M : model) (t : List ℕ) (x : ℕ) : ℝ :=
  EUPU M (query M t) x
    + rsum M.n_ctx (fun p => attn M t p * (EVOU M (tok t p) x + PVOU M p x))

/-! ## Correctness and the accuracy theorem -/

/-- The largest element of `t` (0 for the empty list): Coq's standard-library
`list_max l = fold_right max 0 l`, restated here because Lean has no function of that name. -/
def list_max (t : List ℕ) : ℕ := t.foldr max 0

/-- A sequence is correct when its maximum token strictly wins: every other token `x < v` has a
strictly smaller logit (a tie is wrong). -/
def correct (M : model) (t : List ℕ) : Prop :=
  ∀ x : ℕ, x < M.d_vocab → x ≠ list_max t → logit M t x < logit M t (list_max t)

/-- A sequence of `{0..v-1}^n`: length `n`, every token below `v`. Coq uses `Forall`. -/
def valid_seq (M : model) (t : List ℕ) : Prop :=
  t.length = M.n_ctx ∧ ∀ a ∈ t, a < M.d_vocab

/-- "At least `N` sequences of `{0..v-1}^n` are correct": there is a duplicate-free list of at
least `N` valid sequences, each of them correct. -/
def at_least_correct (M : model) (N : ℕ) : Prop :=
  ∃ l : List (List ℕ), l.Nodup ∧ N ≤ l.length ∧ ∀ t ∈ l, valid_seq M t ∧ correct M t

/-- What every instance theorem states: the model is well formed (so no read above falls
outside a tensor) and at least `N` sequences are correct. -/
def certified_accuracy (M : model) (N : ℕ) : Prop := well_formed M ∧ at_least_correct M N

end Paths

end

end CompactProofs

/-
Coq (coq/theories/Model.v)              Lean (CompactProofs.*)
--------------------------------------  ------------------------------------------------
Record tensor / mk_tensor               structure tensor / tensor.mk_tensor
  mantissas : list (list Z)               mantissas : List (List ℤ)
  exponent : Z                            exponent : ℤ
entry                                   entry  (IZR -> Int.cast, powerRZ 2 -> zpow on ℝ,
                                                nth -> List.getD)
Record model / mk_model                 structure model / model.mk_model (same 11 fields)
has_shape                               has_shape (Forall -> ∀ row ∈ _, ...)
well_formed                             well_formed
rsum (Fixpoint)                         rsum (structural recursion, same equations)
matrix (Definition)                     matrix (abbrev)
mmul                                    mmul
transpose                               transpose
mE mP mQ mK mV mO mU                    mE mP mQ mK mV mO mU  (take M explicitly)
E_q                                     E_q
EUPU EVOU PVOU EQKE EQKP                EUPU EVOU PVOU EQKE EQKP
tok                                     tok   (nth p t 0 -> t.getD p 0)
query                                   query
score                                   score (sqrt (INR d) -> Real.sqrt (d : ℝ))
attn                                    attn  (exp -> Real.exp)
logit                                   logit
list_max (Coq standard library)         list_max (defined here: foldr max 0)
correct                                 correct
valid_seq                               valid_seq (Forall -> ∀ a ∈ t, ...)
at_least_correct                        at_least_correct (NoDup -> List.Nodup,
                                                          Forall -> ∀ t ∈ l, ...)
certified_accuracy                      certified_accuracy
Section Paths / Variable M              section Paths; M an explicit first argument
-/
