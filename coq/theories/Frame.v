(** * The frame every checker shares

    A checker is a count computed from the path matrices: as intervals (for the scores) and
    the logit paths exactly (for h), both from [compute_zpaths M].  [run_check] accepts a claim
    when the model is well formed (Model.v, [well_formed]: every tensor has its declared
    shape), the dimensions n and d_head are positive, and the count reaches the claim;
    [run_check_inputs] gives a soundness proof what it may assume of an accepted claim. *)

From Coq Require Import Reals ZArith NArith List Lia Bool.
From CompactProofs Require Import Model Identity Enclosure IMatrix ZMatrix IPaths ZLogit.
Open Scope R_scope.

(** ** Shapes, decided *)

Definition has_shapeb (r c : nat) (T : tensor) : bool :=
  Nat.eqb (length (mantissas T)) r && forallb (fun row => Nat.eqb (length row) c) (mantissas T).

Lemma has_shapeb_spec (r c : nat) (T : tensor) : has_shapeb r c T = true -> has_shape r c T.
Proof.
  unfold has_shapeb, has_shape. intros H. apply andb_prop in H as [Hr Hc].
  split; [apply Nat.eqb_eq, Hr|]. apply Forall_forall. intros row Hrow.
  rewrite forallb_forall in Hc. apply Nat.eqb_eq, Hc, Hrow.
Qed.

Definition well_formedb (M : model) : bool :=
  let v := d_vocab M in let n := n_ctx M in let d := d_model M in let dh := d_head M in
  has_shapeb v d (W_E M) && has_shapeb n d (W_pos M) && has_shapeb d dh (W_Q M) &&
  has_shapeb d dh (W_K M) && has_shapeb d dh (W_V M) && has_shapeb dh d (W_O M) &&
  has_shapeb d v (W_U M).

Lemma well_formedb_spec (M : model) : well_formedb M = true -> well_formed M.
Proof.
  unfold well_formedb, well_formed. intros H.
  repeat match goal with H : (_ && _)%bool = true |- _ => apply andb_prop in H as [? ?] end.
  repeat match goal with |- _ /\ _ => split; [apply has_shapeb_spec; assumption|] end.
  apply has_shapeb_spec; assumption.
Qed.

(** ** The frame *)

Definition run_check (M : model) (count : ipaths -> zlogits -> N) (claim : N) : bool :=
  andb (andb (well_formedb M) (andb (Nat.ltb 0 (n_ctx M)) (Nat.ltb 0 (d_head M))))
       (let ZP := compute_zpaths M in N.leb claim (count (ipaths_of M ZP) (zlogits_of ZP))).

(** An accepted claim comes with inputs satisfying what the checkers' soundness lemmas assume. *)
Lemma run_check_inputs (M : model) (count : ipaths -> zlogits -> N) (claim : N) :
  run_check M count claim = true ->
  well_formed M /\
  exists IP L, (0 < n_ctx M)%nat /\ (0 < d_head M)%nat /\ paths_enclosed M IP /\ zh_spec M L /\
               (claim <= count IP L)%N.
Proof.
  unfold run_check. intros H. apply andb_prop in H as [H HN]. apply andb_prop in H as [Hwf H].
  apply andb_prop in H as [Hn Hdh]. split; [apply well_formedb_spec, Hwf|].
  apply Nat.ltb_lt in Hn, Hdh. apply N.leb_le in HN.
  pose proof (compute_zpaths_correct M Hn) as HZP.
  exists (ipaths_of M (compute_zpaths M)), (zlogits_of (compute_zpaths M)).
  split; [exact Hn|]. split; [exact Hdh|]. split; [apply ipaths_of_correct, HZP|].
  split; [apply zlogits_of_spec, HZP | exact HN].
Qed.
