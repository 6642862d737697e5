(** * Elementary facts about the finite sums [rsum] of Model.v *)

From Coq Require Import Reals Lia Lra.
From CompactProofs Require Import Model.
Open Scope R_scope.

Lemma rsum_ext (k : nat) (f g : nat -> R) :
  (forall i, (i < k)%nat -> f i = g i) -> rsum k f = rsum k g.
Proof.
  induction k as [|k IH]; intros H; simpl; [reflexivity|].
  rewrite IH by (intros; apply H; lia). rewrite H by lia. reflexivity.
Qed.

Lemma rsum_plus (k : nat) (f g : nat -> R) :
  rsum k (fun i => f i + g i) = rsum k f + rsum k g.
Proof. induction k as [|k IH]; simpl; [ring|]. rewrite IH. ring. Qed.

Lemma rsum_scal_l (k : nat) (c : R) (f : nat -> R) :
  rsum k (fun i => c * f i) = c * rsum k f.
Proof. induction k as [|k IH]; simpl; [ring|]. rewrite IH. ring. Qed.

Lemma rsum_scal_r (k : nat) (c : R) (f : nat -> R) :
  rsum k (fun i => f i * c) = rsum k f * c.
Proof. induction k as [|k IH]; simpl; [ring|]. rewrite IH. ring. Qed.

Lemma rsum_pos (k : nat) (f : nat -> R) :
  (0 < k)%nat -> (forall i, (i < k)%nat -> 0 < f i) -> 0 < rsum k f.
Proof.
  induction k as [|k IH]; intros Hk H; simpl; [lia|].
  destruct k as [|k].
  - simpl. rewrite Rplus_0_l. apply H. lia.
  - apply Rplus_lt_0_compat; [apply IH; intros; try lia; apply H; lia | apply H; lia].
Qed.

Lemma rsum_le (k : nat) (f g : nat -> R) :
  (forall i, (i < k)%nat -> f i <= g i) -> rsum k f <= rsum k g.
Proof.
  induction k as [|k IH]; intros H; simpl; [lra|].
  apply Rplus_le_compat; [apply IH; intros; apply H; lia | apply H; lia].
Qed.
