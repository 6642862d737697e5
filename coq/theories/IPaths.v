(** * Enclosures of the five path matrices of a model *)

From Coq Require Import Reals ZArith List Lia.
From CompactProofs Require Import Model Rsum Enclosure IMatrix.
Open Scope R_scope.

Record ipaths := mk_ipaths {
  iEUPU : imatrix;  (* v x v *)
  iEVOU : imatrix;  (* v x v *)
  iPVOU : imatrix;  (* n x v *)
  iEQKE : imatrix;  (* v x v *)
  iEQKP : imatrix   (* v x n *)
}.

Definition compute_paths (M : model) : ipaths :=
  let v := d_vocab M in let n := n_ctx M in let d := d_model M in let dh := d_head M in
  let E := itensor v d (W_E M) in
  let P := itensor n d (W_pos M) in
  let Q := itensor d dh (W_Q M) in
  let K := itensor d dh (W_K M) in
  let V := itensor d dh (W_V M) in
  let O := itensor dh d (W_O M) in
  let U := itensor d v (W_U M) in
  let Eq := build v d (fun i j => I.add prec (iget E i j) (iget P (n - 1)%nat j)) in
  let VOU_E := immul v d v (immul v dh d (immul v d dh E V) O) U in
  let VOU_P := immul n d v (immul n dh d (immul n d dh P V) O) U in
  let EqQK := immul v dh d (immul v d dh Eq Q) (itranspose d dh K) in
  mk_ipaths
    (immul v d v Eq U)
    VOU_E
    VOU_P
    (immul v d v EqQK (itranspose v d E))
    (immul v d n EqQK (itranspose n d P)).

Definition paths_enclosed (M : model) (IP : ipaths) : Prop :=
  let v := d_vocab M in let n := n_ctx M in
  encl_mat v v (iEUPU IP) (EUPU M) /\
  encl_mat v v (iEVOU IP) (EVOU M) /\
  encl_mat n v (iPVOU IP) (PVOU M) /\
  encl_mat v v (iEQKE IP) (EQKE M) /\
  encl_mat v n (iEQKP IP) (EQKP M).

Theorem compute_paths_correct (M : model) :
  (0 < n_ctx M)%nat -> paths_enclosed M (compute_paths M).
Proof.
  intros Hn.
  assert (HEq : encl_mat (d_vocab M) (d_model M)
     (build (d_vocab M) (d_model M) (fun i j =>
        I.add prec (iget (itensor (d_vocab M) (d_model M) (W_E M)) i j)
                   (iget (itensor (n_ctx M) (d_model M) (W_pos M)) (n_ctx M - 1)%nat j)))
     (E_q M)).
  { intros i j Hi Hj. rewrite iget_build by assumption. unfold E_q.
    apply encl_add; apply encl_itensor; lia. }
  unfold paths_enclosed, compute_paths; simpl.
  repeat split.
  - apply encl_immul; [exact HEq | apply encl_itensor].
  - repeat apply encl_immul; apply encl_itensor.
  - repeat apply encl_immul; apply encl_itensor.
  - apply encl_immul; [|apply encl_itranspose, encl_itensor].
    apply encl_immul; [|apply encl_itranspose, encl_itensor].
    apply encl_immul; [exact HEq | apply encl_itensor].
  - apply encl_immul; [|apply encl_itranspose, encl_itensor].
    apply encl_immul; [|apply encl_itranspose, encl_itensor].
    apply encl_immul; [exact HEq | apply encl_itensor].
Qed.
