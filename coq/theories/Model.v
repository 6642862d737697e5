(** * The accuracy theorem of a one-layer attention-only Max-of-K transformer

    This file is the whole statement: it restates docs/semantics.md over
    Coq's real numbers.  Nothing here is optimised; every other file exists to prove
    instances of [at_least_correct].

    Conventions (matching semantics.md):
    - a weight tensor is stored as integer mantissas and one power-of-two exponent,
      entry (i, j) denotes the exact real [mantissa(i, j) * 2 ^ exponent];
      indices out of range read as 0, and [well_formed] (below) says that no index the
      definitions use is out of range: every tensor has its declared rows x cols;
    - matrices are functions [nat -> nat -> R]; [mmul k A B] is the product whose
      inner dimension is [k];
    - the last position's residual stream is [E_q = E + P[n-1]];
    - scores are divided by [sqrt d_head]; the softmax runs over all n positions. *)

From Coq Require Import Reals ZArith List.
Open Scope R_scope.

(** ** Weights *)

Record tensor := mk_tensor { mantissas : list (list Z); exponent : Z }.

Definition entry (T : tensor) (i j : nat) : R :=
  IZR (nth j (nth i (mantissas T) nil) 0%Z) * powerRZ 2 (exponent T).

Record model := mk_model {
  d_vocab : nat; n_ctx : nat; d_model : nat; d_head : nat;
  W_E : tensor;   (* v x d *)
  W_pos : tensor; (* n x d *)
  W_Q : tensor;   (* d x d_head *)
  W_K : tensor;   (* d x d_head *)
  W_V : tensor;   (* d x d_head *)
  W_O : tensor;   (* d_head x d *)
  W_U : tensor    (* d x v *)
}.

(** [T] has exactly [r] rows of exactly [c] mantissas each. *)
Definition has_shape (r c : nat) (T : tensor) : Prop :=
  length (mantissas T) = r /\ Forall (fun row => length row = c) (mantissas T).

(** Every tensor has the shape its field comment declares (v = d_vocab, n = n_ctx,
    d = d_model), so every entry the definitions below read is a stored mantissa. *)
Definition well_formed (M : model) : Prop :=
  has_shape (d_vocab M) (d_model M) (W_E M) /\
  has_shape (n_ctx M) (d_model M) (W_pos M) /\
  has_shape (d_model M) (d_head M) (W_Q M) /\
  has_shape (d_model M) (d_head M) (W_K M) /\
  has_shape (d_model M) (d_head M) (W_V M) /\
  has_shape (d_head M) (d_model M) (W_O M) /\
  has_shape (d_model M) (d_vocab M) (W_U M).

(** ** Finite sums and matrix products *)

Fixpoint rsum (k : nat) (f : nat -> R) : R :=
  match k with O => 0 | S k' => rsum k' f + f k' end.

Definition matrix := nat -> nat -> R.

Definition mmul (inner : nat) (A B : matrix) : matrix :=
  fun i j => rsum inner (fun l => A i l * B l j).

Definition transpose (A : matrix) : matrix := fun i j => A j i.

(** ** Path matrices (semantics.md, table "matrix / definition") *)

Section Paths.
Variable M : model.

Definition mE : matrix := entry (W_E M).
Definition mP : matrix := entry (W_pos M).
Definition mQ : matrix := entry (W_Q M).
Definition mK : matrix := entry (W_K M).
Definition mV : matrix := entry (W_V M).
Definition mO : matrix := entry (W_O M).
Definition mU : matrix := entry (W_U M).

Definition E_q : matrix := fun i j => mE i j + mP (n_ctx M - 1)%nat j.

Definition EUPU : matrix := mmul (d_model M) E_q mU.
Definition EVOU : matrix :=
  mmul (d_model M) (mmul (d_head M) (mmul (d_model M) mE mV) mO) mU.
Definition PVOU : matrix :=
  mmul (d_model M) (mmul (d_head M) (mmul (d_model M) mP mV) mO) mU.
Definition EQKE : matrix :=
  mmul (d_model M) (mmul (d_head M) (mmul (d_model M) E_q mQ) (transpose mK)) (transpose mE).
Definition EQKP : matrix :=
  mmul (d_model M) (mmul (d_head M) (mmul (d_model M) E_q mQ) (transpose mK)) (transpose mP).

(** ** Last-position logits of a token sequence [t] *)

Definition tok (t : list nat) (p : nat) : nat := nth p t 0%nat.
Definition query (t : list nat) : nat := tok t (n_ctx M - 1)%nat.

Definition score (t : list nat) (p : nat) : R :=
  (EQKE (query t) (tok t p) + EQKP (query t) p) / sqrt (INR (d_head M)).

Definition attn (t : list nat) (p : nat) : R :=
  exp (score t p) / rsum (n_ctx M) (fun r => exp (score t r)).

Definition logit (t : list nat) (x : nat) : R :=
  EUPU (query t) x
  + rsum (n_ctx M) (fun p => attn t p * (EVOU (tok t p) x + PVOU p x)).

(** ** Correctness and the accuracy theorem *)

(** A sequence is correct when its maximum token strictly wins (a tie is wrong). *)
Definition correct (t : list nat) : Prop :=
  forall x, (x < d_vocab M)%nat -> x <> list_max t ->
  logit t x < logit t (list_max t).

Definition valid_seq (t : list nat) : Prop :=
  length t = n_ctx M /\ Forall (fun a => (a < d_vocab M)%nat) t.

(** "At least [N] sequences of {0..v-1}^n are correct": there is a duplicate-free
    list of at least [N] valid sequences, each of them correct. *)
Definition at_least_correct (N : nat) : Prop :=
  exists l : list (list nat),
    NoDup l /\ (N <= length l)%nat /\ Forall (fun t => valid_seq t /\ correct t) l.

(** What every instance theorem states: the model is well formed (so no read above falls
    outside a tensor) and at least [N] sequences are correct. *)
Definition certified_accuracy (N : nat) : Prop := well_formed M /\ at_least_correct N.

End Paths.
