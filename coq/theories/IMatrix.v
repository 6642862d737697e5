(** * Interval matrices enclosing the real matrices of Model.v

    An interval matrix is a list of rows of intervals.  [encl_mat r c A a] says that
    every entry of the r x c real matrix [a] lies in the corresponding interval of [A]. *)

From Coq Require Import Reals ZArith List Lia.
From CompactProofs Require Import Model Rsum Enclosure.
Open Scope R_scope.

Definition imatrix := list (list I.type).

Definition iget (A : imatrix) (i j : nat) : I.type := nth j (nth i A nil) I.nai.

Definition build (r c : nat) (f : nat -> nat -> I.type) : imatrix :=
  map (fun i => map (fun j => f i j) (seq 0 c)) (seq 0 r).

Lemma nth_map_seq {A} (f : nat -> A) (k i : nat) (d : A) :
  (i < k)%nat -> nth i (map f (seq 0 k)) d = f i.
Proof.
  intros H. rewrite nth_indep with (d' := f 0%nat) by (rewrite map_length, seq_length; exact H).
  rewrite map_nth, seq_nth by exact H. reflexivity.
Qed.

Lemma iget_build r c f i j : (i < r)%nat -> (j < c)%nat -> iget (build r c f) i j = f i j.
Proof. intros Hi Hj. unfold iget, build. rewrite !nth_map_seq by assumption. reflexivity. Qed.

Definition encl_mat (r c : nat) (A : imatrix) (a : matrix) : Prop :=
  forall i j, (i < r)%nat -> (j < c)%nat -> encl (iget A i j) (a i j).

Definition immul (r inner c : nat) (A B : imatrix) : imatrix :=
  build r c (fun i j => isum inner (fun l => I.mul prec (iget A i l) (iget B l j))).

Lemma encl_immul r inner c A B a b :
  encl_mat r inner A a -> encl_mat inner c B b ->
  encl_mat r c (immul r inner c A B) (mmul inner a b).
Proof.
  intros HA HB i j Hi Hj. unfold immul. rewrite iget_build by assumption.
  apply encl_isum. intros l Hl. apply encl_mul; [apply HA | apply HB]; assumption.
Qed.

(** [A] is r x c; its transpose is c x r. *)
Definition itranspose (r c : nat) (A : imatrix) : imatrix := build c r (fun i j => iget A j i).

Lemma encl_itranspose r c A a :
  encl_mat r c A a -> encl_mat c r (itranspose r c A) (transpose a).
Proof.
  intros HA i j Hi Hj. unfold itranspose, transpose. rewrite iget_build by assumption.
  apply HA; assumption.
Qed.

Definition itensor (r c : nat) (T : tensor) : imatrix :=
  build r c (fun i j => idyadic (nth j (nth i (mantissas T) nil) 0%Z) (exponent T)).

Lemma encl_itensor r c T : encl_mat r c (itensor r c T) (entry T).
Proof.
  intros i j Hi Hj. unfold itensor. rewrite iget_build by assumption. apply encl_dyadic.
Qed.
