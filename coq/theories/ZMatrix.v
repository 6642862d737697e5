(** * Exact dyadic matrices

    A dyadic matrix is a [tensor] of Model.v: a list of rows of integer mantissas and
    one power-of-two exponent, denoting the real matrix [entry A] (entry (i, j) is
    [IZR m_ij * 2 ^ e]; indices out of range read 0).  Dyadic matrices are closed under
    the operations that build the path matrices (the mantissas multiply and add as
    integers, the exponents add), so the path matrices can be computed exactly over [Z]
    and rounded to intervals only once, at the end.

    [zmat_eq r c A a] says that the r x c real matrix [a] is exactly the one [A]
    denotes; each operation below comes with a lemma transporting it, in the style of
    [encl_mat] in IMatrix.v. *)

From Coq Require Import Reals ZArith List Lia Lra.
From CompactProofs Require Import Model Rsum IMatrix.
Open Scope R_scope.

(** ** Integer matrices *)

Definition zget (A : list (list Z)) (i j : nat) : Z := nth j (nth i A nil) 0%Z.

Definition zbuild (r c : nat) (f : nat -> nat -> Z) : list (list Z) :=
  map (fun i => map (fun j => f i j) (seq 0 c)) (seq 0 r).

(** Reading back a built matrix, in range. *)
Lemma zget_zbuild r c f i j : (i < r)%nat -> (j < c)%nat -> zget (zbuild r c f) i j = f i j.
Proof. intros Hi Hj. unfold zget, zbuild. rewrite !nth_map_seq by assumption. reflexivity. Qed.

Fixpoint zsum (k : nat) (f : nat -> Z) : Z :=
  match k with O => 0%Z | S k' => (zsum k' f + f k')%Z end.

(** An integer sum, read as a real, is the real sum of its terms. *)
Lemma zsum_IZR (k : nat) (f : nat -> Z) : IZR (zsum k f) = rsum k (fun l => IZR (f l)).
Proof. induction k as [|k IH]; simpl; [reflexivity|]. rewrite plus_IZR, IH. reflexivity. Qed.

(** ** What a dyadic matrix denotes *)

(** [entry] reads a mantissa with [zget] (by definition). *)
Lemma entry_zget (A : tensor) (i j : nat) :
  entry A i j = IZR (zget (mantissas A) i j) * powerRZ 2 (exponent A).
Proof. reflexivity. Qed.

(** Every entry (i, j) with [i < r], [j < c] of [A] denotes exactly [a i j]. *)
Definition zmat_eq (r c : nat) (A : tensor) (a : matrix) : Prop :=
  forall i j, (i < r)%nat -> (j < c)%nat -> entry A i j = a i j.

(** A weight tensor denotes its own entries (at any size). *)
Lemma zmat_eq_entry (r c : nat) (T : tensor) : zmat_eq r c T (entry T).
Proof. intros i j _ _. reflexivity. Qed.

(** [zmat_eq] only looks at the entries in range. *)
Lemma zmat_eq_ext (r c : nat) (A : tensor) (a b : matrix) :
  zmat_eq r c A a -> (forall i j, (i < r)%nat -> (j < c)%nat -> a i j = b i j) ->
  zmat_eq r c A b.
Proof. intros HA Hab i j Hi Hj. rewrite HA by assumption. apply Hab; assumption. Qed.

(** [2 ^ (e + f) = 2 ^ e * 2 ^ f]. *)
Lemma powerRZ2_add (e f : Z) : powerRZ 2 (e + f) = powerRZ 2 e * powerRZ 2 f.
Proof. apply powerRZ_add. lra. Qed.

(** ** Product *)

(** [a * b], multiplying by the factor of smaller magnitude: [Pos.mul] loops over the
    bits of its first argument, adding the second at each one bit (in the showcase,
    this saves a quarter of the time of [EQKE], whose left factor has long entries). *)
Definition ztimes (a b : Z) : Z := if (Z.abs a <? Z.abs b)%Z then (a * b)%Z else (b * a)%Z.

(** [ztimes] is the product. *)
Lemma ztimes_mul (a b : Z) : ztimes a b = (a * b)%Z.
Proof. unfold ztimes. destruct (_ <? _)%Z; [reflexivity | apply Z.mul_comm]. Qed.

(** [A] is r x inner, [B] is inner x c: integer products of the mantissas, exponents
    added. *)
Definition zmul (r inner c : nat) (A B : tensor) : tensor :=
  mk_tensor
    (zbuild r c (fun i j =>
       zsum inner (fun l => ztimes (zget (mantissas A) i l) (zget (mantissas B) l j))))
    (exponent A + exponent B).

(** The product of dyadic matrices denotes the product [mmul] of what they denote. *)
Lemma zmul_eq r inner c A B a b :
  zmat_eq r inner A a -> zmat_eq inner c B b ->
  zmat_eq r c (zmul r inner c A B) (mmul inner a b).
Proof.
  intros HA HB i j Hi Hj. unfold zmul, mmul. rewrite entry_zget. simpl.
  rewrite zget_zbuild, zsum_IZR, powerRZ2_add, <- rsum_scal_r by assumption.
  apply rsum_ext. intros l Hl. rewrite <- HA, <- HB by assumption.
  rewrite ztimes_mul, mult_IZR, !entry_zget. ring.
Qed.

(** ** Transpose *)

(** [A] is r x c; its transpose is c x r. *)
Definition ztranspose (r c : nat) (A : tensor) : tensor :=
  mk_tensor (zbuild c r (fun i j => zget (mantissas A) j i)) (exponent A).

(** The transpose of a dyadic matrix denotes the [transpose] of what it denotes. *)
Lemma ztranspose_eq r c A a : zmat_eq r c A a -> zmat_eq c r (ztranspose r c A) (transpose a).
Proof.
  intros HA i j Hi Hj. unfold ztranspose, transpose. rewrite entry_zget. simpl.
  rewrite zget_zbuild by assumption. rewrite <- HA by assumption. reflexivity.
Qed.

(** ** Adding a broadcast row *)

(** The integer [2 ^ s], for [s >= 0], read as a real. *)
Lemma IZR_pow2 (s : Z) : (0 <= s)%Z -> IZR (2 ^ s) = powerRZ 2 s.
Proof.
  intros Hs. destruct s as [|p|p]; [reflexivity| |lia].
  exact (Zpower_pos_powerRZ 2 p).
Qed.

(** Shifting a mantissa left by [s >= 0] multiplies what it denotes by [2 ^ s]. *)
Lemma IZR_shiftl (m s e : Z) : (0 <= s)%Z ->
  IZR (Z.shiftl m s) * powerRZ 2 e = IZR m * powerRZ 2 (s + e).
Proof.
  intros Hs. rewrite Z.shiftl_mul_pow2, mult_IZR, IZR_pow2, powerRZ2_add by exact Hs. ring.
Qed.

(** Row [k] of the s x c matrix [B] added to every row of the r x c matrix [A]; the
    mantissas are aligned on the smaller of the two exponents. *)
Definition zaddrow (r c : nat) (A B : tensor) (k : nat) : tensor :=
  let e := Z.min (exponent A) (exponent B) in
  let sa := (exponent A - e)%Z in let sb := (exponent B - e)%Z in
  mk_tensor
    (zbuild r c (fun i j =>
       Z.shiftl (zget (mantissas A) i j) sa + Z.shiftl (zget (mantissas B) k j) sb)%Z)
    e.

(** It denotes [a i j + b k j], for a row [k] of [B] in range. *)
Lemma zaddrow_eq r c s A B a b k :
  zmat_eq r c A a -> zmat_eq s c B b -> (k < s)%nat ->
  zmat_eq r c (zaddrow r c A B k) (fun i j => a i j + b k j).
Proof.
  intros HA HB Hk i j Hi Hj. unfold zaddrow. rewrite entry_zget. simpl.
  rewrite zget_zbuild by assumption. rewrite plus_IZR, Rmult_plus_distr_r.
  rewrite !IZR_shiftl by lia. rewrite !Z.sub_add.
  rewrite <- HA, <- HB by assumption. reflexivity.
Qed.

(** [E_q = E + P[n-1]] of a model, as a v x d dyadic matrix. *)
Definition zE_q (M : model) : tensor :=
  zaddrow (d_vocab M) (d_model M) (W_E M) (W_pos M) (n_ctx M - 1)%nat.

(** It denotes [E_q] exactly (for [0 < n]). *)
Lemma zE_q_eq (M : model) : (0 < n_ctx M)%nat -> zmat_eq (d_vocab M) (d_model M) (zE_q M) (E_q M).
Proof.
  intros Hn. apply (zaddrow_eq _ _ (n_ctx M)); [apply zmat_eq_entry | apply zmat_eq_entry | lia].
Qed.

(** ** Associativity of [mmul] (all indices, no range condition) *)

(** Two finite sums commute. *)
Lemma rsum_swap (a b : nat) (f : nat -> nat -> R) :
  rsum a (fun i => rsum b (fun j => f i j)) = rsum b (fun j => rsum a (fun i => f i j)).
Proof.
  induction a as [|a IH]; simpl.
  - induction b as [|b IHb]; simpl; [reflexivity|]. rewrite <- IHb. ring.
  - rewrite IH, <- rsum_plus. reflexivity.
Qed.

(** [(A B) C = A (B C)], entrywise. *)
Lemma mmul_assoc (k1 k2 : nat) (A B C : matrix) (i j : nat) :
  mmul k2 (mmul k1 A B) C i j = mmul k1 A (mmul k2 B C) i j.
Proof.
  unfold mmul.
  transitivity (rsum k2 (fun l => rsum k1 (fun m => A i m * (B m l * C l j)))).
  - apply rsum_ext. intros l _. rewrite <- rsum_scal_r. apply rsum_ext. intros m _. ring.
  - rewrite rsum_swap. apply rsum_ext. intros m _. rewrite rsum_scal_l. reflexivity.
Qed.
