(** * The logit paths at one common scale, and h_p(x) exactly

    EUPU, EVOU and PVOU have different exponents; shifting their mantissas to the
    smallest one puts them on one integer scale, so that h_p(x) of Identity.v is one
    integer times 2 ^ lexp, computed with integer additions only. *)

From Coq Require Import Reals ZArith NArith List Lia Lra.
From CompactProofs Require Import Model Identity Enclosure IMatrix ZMatrix IPaths.
Open Scope R_scope.

(** The mantissas of [A] shifted to the exponent [e] (meant for [e <= exponent A]). *)
Definition zalign (e : Z) (A : tensor) : list (list Z) :=
  map (map (fun z => Z.shiftl z (exponent A - e))) (mantissas A).

Lemma nth_map_default {A B} (f : A -> B) (l : list A) (d : A) (e : B) (i : nat) :
  f d = e -> nth i (map f l) e = f (nth i l d).
Proof. intros <-. apply map_nth. Qed.

(** Aligning does not change what an entry denotes. *)
Lemma zalign_entry (e : Z) (A : tensor) (i j : nat) : (e <= exponent A)%Z ->
  IZR (zget (zalign e A) i j) * powerRZ 2 e = entry A i j.
Proof.
  intros He. unfold zalign, zget.
  rewrite (nth_map_default _ _ nil nil i eq_refl).
  rewrite (nth_map_default (fun z => Z.shiftl z (exponent A - e)) _ 0%Z 0%Z j (Z.shiftl_0_l _)).
  rewrite IZR_shiftl by lia. rewrite entry_zget. unfold zget. do 2 f_equal. lia.
Qed.

Record zlogits := mk_zlogits { lU : list (list Z); lV : list (list Z); lP : list (list Z); lexp : Z }.

Definition zlogits_of (ZP : zpaths) : zlogits :=
  let e := Z.min (exponent (pEUPU ZP)) (Z.min (exponent (pEVOU ZP)) (exponent (pPVOU ZP))) in
  mk_zlogits (zalign e (pEUPU ZP)) (zalign e (pEVOU ZP)) (zalign e (pPVOU ZP)) e.

(** h_p(x) for query [q] and token [tp] at position [p], as a mantissa at exponent [lexp]. *)
Definition zh (L : zlogits) (q tp m x p : nat) : Z :=
  (zget (lU L) q x - zget (lU L) q m) + (zget (lV L) tp x - zget (lV L) tp m)
  + (zget (lP L) p x - zget (lP L) p m).

Section Exact.
Variable M : model.
Variable ZP : zpaths.
Hypothesis HZP : zpaths_exact M ZP.

Local Notation L := (zlogits_of ZP).

Lemma lU_exact i j : (i < d_vocab M)%nat -> (j < d_vocab M)%nat ->
  IZR (zget (lU L) i j) * powerRZ 2 (lexp L) = EUPU M i j.
Proof.
  intros Hi Hj. destruct HZP as (H & _). simpl. rewrite zalign_entry by lia. apply H; assumption.
Qed.

Lemma lV_exact i j : (i < d_vocab M)%nat -> (j < d_vocab M)%nat ->
  IZR (zget (lV L) i j) * powerRZ 2 (lexp L) = EVOU M i j.
Proof.
  intros Hi Hj. destruct HZP as (_ & H & _). simpl. rewrite zalign_entry by lia. apply H; assumption.
Qed.

Lemma lP_exact i j : (i < n_ctx M)%nat -> (j < d_vocab M)%nat ->
  IZR (zget (lP L) i j) * powerRZ 2 (lexp L) = PVOU M i j.
Proof.
  intros Hi Hj. destruct HZP as (_ & _ & H & _). simpl. rewrite zalign_entry by lia. apply H; assumption.
Qed.

(** [zh] is h_p(x) exactly, for a sequence [t] whose query and token at [p] are in range. *)
Lemma zh_exact (t : list nat) (m x p : nat) :
  (query M t < d_vocab M)%nat -> (tok t p < d_vocab M)%nat -> (m < d_vocab M)%nat ->
  (x < d_vocab M)%nat -> (p < n_ctx M)%nat ->
  IZR (zh L (query M t) (tok t p) m x p) * powerRZ 2 (lexp L) = h M t m x p.
Proof.
  intros Hq Ht Hm Hx Hp. unfold zh, h.
  rewrite <- (lU_exact _ x), <- (lU_exact _ m), <- (lV_exact _ x), <- (lV_exact _ m),
    <- (lP_exact _ x), <- (lP_exact _ m) by assumption.
  rewrite !plus_IZR, !minus_IZR. ring.
Qed.

(** What the checkers need of [L]: [zh] is h_p(x) for every valid sequence. *)
Definition zh_spec (L' : zlogits) : Prop :=
  forall t m x p, valid_seq M t -> (m < d_vocab M)%nat -> (x < d_vocab M)%nat -> (p < n_ctx M)%nat ->
  IZR (zh L' (query M t) (tok t p) m x p) * powerRZ 2 (lexp L') = h M t m x p.

Lemma zlogits_of_spec : zh_spec L.
Proof.
  intros t m x p [Hlen Hall] Hm Hx Hp. rewrite Forall_forall in Hall.
  apply zh_exact; try assumption; unfold query, tok; apply Hall, nth_In; lia.
Qed.

End Exact.
