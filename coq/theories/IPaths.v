(** * The five path matrices of a model: exactly, then as intervals

    [compute_zpaths] computes the path matrices exactly, as dyadic matrices (ZMatrix.v),
    associating the products as [E (V (O U))], [P (V (O U))] (sharing [V (O U)]) and
    [(E_q (Q K^T)) E^T], [(E_q (Q K^T)) P^T] (sharing [E_q (Q K^T)]; [Q K^T] is only
    d x d); [compute_zpaths_correct]: they denote the path matrices of Model.v exactly.
    [compute_paths] then rounds every entry once to an interval; [compute_paths_correct]:
    the intervals enclose the real path matrices. *)

From Coq Require Import Reals ZArith List Lia Lra.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Enclosure IMatrix ZMatrix.
Open Scope R_scope.

(** The five path matrices, in some representation [A] (exact below, then intervals). *)
Set Implicit Arguments.  (* the representation [A] of the record below is implicit *)
Record paths (A : Type) := mk_paths {
  pEUPU : A;  (* v x v *)
  pEVOU : A;  (* v x v *)
  pPVOU : A;  (* n x v *)
  pEQKE : A;  (* v x v *)
  pEQKP : A   (* v x n *)
}.
Unset Implicit Arguments.

(** ** Exact path matrices *)

Notation zpaths := (paths tensor).

Definition compute_zpaths (M : model) : zpaths :=
  let v := d_vocab M in let n := n_ctx M in let d := d_model M in let dh := d_head M in
  let Eq := zE_q M in
  let VOU := zmul d dh v (W_V M) (zmul dh d v (W_O M) (W_U M)) in       (* V (O U) *)
  let QK := zmul d dh d (W_Q M) (ztranspose d dh (W_K M)) in            (* Q K^T *)
  let EqQK := zmul v d d Eq QK in                                       (* E_q (Q K^T) *)
  mk_paths
    (zmul v d v Eq (W_U M))
    (zmul v d v (W_E M) VOU)
    (zmul n d v (W_pos M) VOU)
    (zmul v d v EqQK (ztranspose v d (W_E M)))
    (zmul v d n EqQK (ztranspose n d (W_pos M))).

(** [rel r c X a] relates the r x c matrix [X] of some representation to the real matrix [a];
    [paths_rel rel M P] says it for each of the five path matrices. *)
Definition paths_rel {A} (rel : nat -> nat -> A -> matrix -> Prop) (M : model) (P : paths A) : Prop :=
  let v := d_vocab M in let n := n_ctx M in
  rel v v (pEUPU P) (EUPU M) /\
  rel v v (pEVOU P) (EVOU M) /\
  rel n v (pPVOU P) (PVOU M) /\
  rel v v (pEQKE P) (EQKE M) /\
  rel v n (pEQKP P) (EQKP M).

(** The five dyadic matrices denote the five path matrices, entrywise in range. *)
Definition zpaths_exact (M : model) (ZP : zpaths) : Prop := paths_rel zmat_eq M ZP.

(** Every entry (in range) of the computed dyadic matrices is exactly the real entry
    of the corresponding path matrix of Model.v. *)
Theorem compute_zpaths_correct (M : model) :
  (0 < n_ctx M)%nat -> zpaths_exact M (compute_zpaths M).
Proof.
  intros Hn. pose proof (zE_q_eq M Hn) as HEq.
  set (v := d_vocab M). set (d := d_model M). set (dh := d_head M).
  (* V (O U), shared by EVOU and PVOU *)
  assert (HVOU : zmat_eq d v (zmul d dh v (W_V M) (zmul dh d v (W_O M) (W_U M)))
                   (mmul dh (mV M) (mmul d (mO M) (mU M)))).
  { apply zmul_eq; [apply zmat_eq_entry|]. apply zmul_eq; apply zmat_eq_entry. }
  (* E_q (Q K^T), shared by EQKE and EQKP, is (E_q Q) K^T *)
  assert (HEqQK : zmat_eq v d (zmul v d d (zE_q M) (zmul d dh d (W_Q M) (ztranspose d dh (W_K M))))
                    (mmul dh (mmul d (E_q M) (mQ M)) (transpose (mK M)))).
  { eapply zmat_eq_ext.
    - apply zmul_eq; [exact HEq|]. apply zmul_eq; [apply zmat_eq_entry|].
      apply ztranspose_eq, zmat_eq_entry.
    - intros i j _ _. symmetry. apply mmul_assoc. }
  unfold zpaths_exact, compute_zpaths; simpl. repeat split.
  - apply zmul_eq; [exact HEq | apply zmat_eq_entry].
  - eapply zmat_eq_ext; [apply zmul_eq; [apply zmat_eq_entry | exact HVOU]|].
    intros i j _ _. unfold EVOU. rewrite !mmul_assoc. reflexivity.
  - eapply zmat_eq_ext; [apply zmul_eq; [apply zmat_eq_entry | exact HVOU]|].
    intros i j _ _. unfold PVOU. rewrite !mmul_assoc. reflexivity.
  - apply zmul_eq; [exact HEqQK | apply ztranspose_eq, zmat_eq_entry].
  - apply zmul_eq; [exact HEqQK | apply ztranspose_eq, zmat_eq_entry].
Qed.

(** ** Interval path matrices *)

Notation ipaths := (paths imatrix).

(** *** Rounding an exact entry once *)

(** The float [m * 2 ^ e], exactly, when the float format represents the exponent [e]
    (always, with [StdZRadix2]). *)
Definition fdyadic (m e : Z) : F.type := F.scale2 (F.fromZ m) (F.ZtoS e).

Lemma fdyadic_correct (m e : Z) :
  F.StoZ (F.ZtoS e) = e -> F.toX (fdyadic m e) = Xreal (IZR m * powerRZ 2 e).
Proof.
  intros He. unfold fdyadic. rewrite F.scale2_correct by reflexivity.
  rewrite F.fromZ_correct', He. simpl. rewrite Raux.bpow_powerRZ. reflexivity.
Qed.

(** [m * 2 ^ e] rounded outward to mantissas of at most 64 bits: dropping the [k] low
    bits of [m] gives [floor (m / 2^k) * 2^(e+k) <= m * 2^e <= ceil (m / 2^k) * 2^(e+k)]
    (both bounds are [m * 2^e] when [k = 0]).  Should the exponent [e + k] not be
    representable, the interval operations round it ([idyadic], Enclosure.v, about ten
    times slower). *)
Definition iround (m e : Z) : I.type :=
  let k := Z.max 0 (Z.log2 (Z.abs m) - 63) in
  if (F.StoZ (F.ZtoS (e + k)) =? e + k)%Z
  then I.bnd (fdyadic (Z.shiftr m k) (e + k)) (fdyadic (- Z.shiftr (- m) k) (e + k))
  else idyadic m e.

Lemma encl_iround (m e : Z) : encl (iround m e) (IZR m * powerRZ 2 e).
Proof.
  unfold iround. set (k := Z.max 0 (Z.log2 (Z.abs m) - 63)).
  destruct (Z.eqb_spec (F.StoZ (F.ZtoS (e + k))) (e + k)) as [Hr|_]; [|apply encl_dyadic].
  assert (Hk : (0 <= k)%Z) by apply Z.le_max_l.
  unfold encl. rewrite I.bnd_correct by reflexivity. rewrite !fdyadic_correct by exact Hr.
  rewrite !Z.shiftr_div_pow2 by exact Hk.
  assert (Hb : (0 < 2 ^ k)%Z) by (apply Z.pow_pos_nonneg; lia).
  pose proof (Z.mul_div_le m (2 ^ k) Hb) as Hlo.
  pose proof (Z.mul_div_le (- m) (2 ^ k) Hb) as Hhi.
  assert (He : 0 < powerRZ 2 e) by (apply powerRZ_lt; lra).
  (* [q * 2^(e+k) = (2^k * q) * 2^e] *)
  assert (Hs : forall q, IZR q * powerRZ 2 (e + k) = IZR (2 ^ k * q) * powerRZ 2 e).
  { intros q. rewrite mult_IZR, IZR_pow2, Z.add_comm, powerRZ2_add by exact Hk. ring. }
  simpl. rewrite !Hs. split; apply Rmult_le_compat_r; try lra; apply IZR_le; lia.
Qed.

(** A dyadic matrix rounded entrywise. *)
Definition ztoi (r c : nat) (A : tensor) : imatrix :=
  build r c (fun i j => iround (zget (mantissas A) i j) (exponent A)).

(** The rounded matrix encloses every real matrix the dyadic one equals. *)
Lemma encl_ztoi r c A a : zmat_eq r c A a -> encl_mat r c (ztoi r c A) a.
Proof.
  intros HA i j Hi Hj. unfold ztoi. rewrite iget_build by assumption.
  rewrite <- HA by assumption. apply encl_iround.
Qed.

(** *** The interval path matrices *)

(** Each exact entry rounded once to an interval. *)
Definition ipaths_of (M : model) (ZP : zpaths) : ipaths :=
  let v := d_vocab M in let n := n_ctx M in
  mk_paths
    (ztoi v v (pEUPU ZP))
    (ztoi v v (pEVOU ZP))
    (ztoi n v (pPVOU ZP))
    (ztoi v v (pEQKE ZP))
    (ztoi v n (pEQKP ZP)).

Definition compute_paths (M : model) : ipaths := ipaths_of M (compute_zpaths M).

(** The five interval matrices enclose the five path matrices, entrywise in range. *)
Definition paths_enclosed (M : model) (IP : ipaths) : Prop := paths_rel encl_mat M IP.

(** Rounding exact path matrices gives enclosures of them. *)
Lemma ipaths_of_correct (M : model) (ZP : zpaths) :
  zpaths_exact M ZP -> paths_enclosed M (ipaths_of M ZP).
Proof.
  intros (H1 & H2 & H3 & H4 & H5). unfold paths_enclosed, ipaths_of.
  repeat split; apply encl_ztoi; assumption.
Qed.

(** The computed intervals enclose the real path matrices of Model.v. *)
Theorem compute_paths_correct (M : model) :
  (0 < n_ctx M)%nat -> paths_enclosed M (compute_paths M).
Proof. intros Hn. apply ipaths_of_correct, compute_zpaths_correct, Hn. Qed.
