(** * The rank-one attention-error modes of the subcubic proof (docs/proofs/subcubic.md section 4)

    Real-number facts only; the checker's computation and its use are in Subcubic.v and
    SubcubicSound.v.
    - [rsum_sub], [rsum_nonneg]: finite sums;
    - [row_diff_bound] (RD): (L R)[q,i] - (L R)[q,j] <= sum_l |L[q,l]| r_l for any r_l bounding
      the differences within row l of R;
    - [eqke_rank_one]: for any vectors a, b (the witness), with G = Q K^T - a b^T,
      EQKE = E_q G E^T + (E_q a)(E b)^T exactly;
    - [err_two_splits]: the error E_q G E^T is both (E_q)(G E^T) and (E_q G)(E^T), the two split
      points of the max_diff mode.
    The key-side offset c_key of the Python checker (E_key = E + c_key) is not used: it adds a
    constant to each row of S, of E~ and of the error, and to each row of G E_key^T and of E_key^T
    (as a function of the key), so it changes no difference and no row range the argument uses. *)

From Coq Require Import Reals Lia Lra.
From CompactProofs Require Import Model Rsum ZMatrix.
Open Scope R_scope.

Lemma rsum_sub (k : nat) (f g : nat -> R) : rsum k f - rsum k g = rsum k (fun i => f i - g i).
Proof. induction k as [|k IH]; simpl; [ring|]. rewrite <- IH. ring. Qed.

Lemma rsum_nonneg (k : nat) (f : nat -> R) : (forall i, (i < k)%nat -> 0 <= f i) -> 0 <= rsum k f.
Proof.
  induction k as [|k IH]; intros H; simpl; [lra|].
  assert (0 <= rsum k f) by (apply IH; intros; apply H; lia). assert (0 <= f k) by (apply H; lia). lra.
Qed.

(** (RD) *)
Lemma row_diff_bound (k : nat) (L Rm : matrix) (r : nat -> R) (q i j : nat) :
  (forall l, (l < k)%nat -> Rabs (Rm l i - Rm l j) <= r l) ->
  mmul k L Rm q i - mmul k L Rm q j <= rsum k (fun l => Rabs (L q l) * r l).
Proof.
  intros Hr. unfold mmul. rewrite rsum_sub. apply rsum_le. intros l Hl.
  replace (L q l * Rm l i - L q l * Rm l j) with (L q l * (Rm l i - Rm l j)) by ring.
  apply (Rle_trans _ (Rabs (L q l * (Rm l i - Rm l j)))); [apply Rle_abs|].
  rewrite Rabs_mult. apply Rmult_le_compat_l; [apply Rabs_pos | apply Hr, Hl].
Qed.

Section RankOne.
Variable M : model.
Variables a b : nat -> R.

Local Notation d := (d_model M).

Definition qk : matrix := mmul (d_head M) (mQ M) (transpose (mK M)).
Definition gmat : matrix := fun i j => qk i j - a i * b j.
Definition alpha (q : nat) : R := rsum d (fun l => E_q M q l * a l).
Definition beta (k : nat) : R := rsum d (fun l => mE M k l * b l).

(** The error of the approximation E~[q,k] = alpha q * beta k. *)
Definition err : matrix := mmul d (mmul d (E_q M) gmat) (transpose (mE M)).

Lemma eqke_rank_one (q k : nat) : EQKE M q k = err q k + alpha q * beta k.
Proof.
  unfold EQKE, err.
  assert (H1 : forall j, mmul (d_head M) (mmul d (E_q M) (mQ M)) (transpose (mK M)) q j
                         = mmul d (E_q M) gmat q j + alpha q * b j).
  { intros j. rewrite mmul_assoc. fold qk. unfold mmul at 1 2, gmat, alpha.
    rewrite <- rsum_scal_r, <- rsum_plus. apply rsum_ext. intros l _. ring. }
  unfold mmul at 1 3. rewrite (rsum_ext _ _ (fun j => mmul d (E_q M) gmat q j * transpose (mE M) j k
                                                  + alpha q * (b j * mE M k j)))
    by (intros j _; rewrite H1; unfold transpose; ring).
  rewrite rsum_plus, rsum_scal_l. f_equal. f_equal. unfold beta. apply rsum_ext. intros l _. ring.
Qed.

Lemma err_two_splits (q k : nat) :
  err q k = mmul d (E_q M) (mmul d gmat (transpose (mE M))) q k.
Proof. unfold err. apply mmul_assoc. Qed.

End RankOne.

(** ** The checker's side: exact factors, rounded once, and the (RD) bound as an interval *)

From Coq Require Import ZArith List Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Enclosure IMatrix IPaths.

(** The dyadic vector [a] (mantissas, one exponent) as reals. *)
Definition dy (a : list Z) (e : Z) (i : nat) : R := IZR (nth i a 0%Z) * powerRZ 2 e.

(** A - a b^T exactly, for dyadic vectors a, b sharing the exponent [e]. *)
Definition zouter_sub (r c : nat) (A : tensor) (a b : list Z) (e : Z) : tensor :=
  let ez := Z.min (exponent A) (e + e) in
  mk_tensor (zbuild r c (fun i j => (Z.shiftl (zget (mantissas A) i j) (exponent A - ez)
                                   - Z.shiftl (nth i a 0 * nth j b 0) (e + e - ez))%Z)) ez.

Lemma zouter_sub_eq (r c : nat) (A : tensor) (Am : matrix) (a b : list Z) (e : Z) :
  zmat_eq r c A Am -> zmat_eq r c (zouter_sub r c A a b e) (fun i j => Am i j - dy a e i * dy b e j).
Proof.
  intros HA i j Hi Hj. unfold zouter_sub. rewrite entry_zget. simpl. rewrite zget_zbuild by assumption.
  rewrite minus_IZR, Rmult_minus_distr_r, !IZR_shiftl by lia. rewrite !Z.sub_add.
  rewrite <- HA by assumption. rewrite entry_zget. unfold dy. rewrite mult_IZR, powerRZ2_add. ring.
Qed.

(** The interval of range(R[l]) (hull of the row minus itself), and the (RD) bound of row q. *)
Definition rowrange (Ri : imatrix) (c l : nat) : I.type :=
  let H := ijoin (fun i => iget Ri l i) (seq 0 c) in I.sub prec H H.

Definition rr_list (Ri : imatrix) (k c : nat) : list I.type := map (rowrange Ri c) (seq 0 k).

Definition rd_ok (rrs : list I.type) : bool := forallb has_top rrs.

Definition rd_bound (Li : imatrix) (rrs : list I.type) (k q : nat) : I.type :=
  isum k (fun l => I.mul prec (I.abs (iget Li q l)) (top (nth l rrs I.nai))).

Lemma rowrange_abs (Ri : imatrix) (Rm : matrix) (k c l i j : nat) :
  encl_mat k c Ri Rm -> (l < k)%nat -> (i < c)%nat -> (j < c)%nat -> has_top (rowrange Ri c l) = true ->
  Rabs (Rm l i - Rm l j) <= top_real (rowrange Ri c l).
Proof.
  intros HR Hl Hi Hj Ht.
  assert (HH : forall y, (y < c)%nat -> encl (ijoin (fun i => iget Ri l i) (seq 0 c)) (Rm l y)).
  { intros y Hy. apply (encl_ijoin _ _ y); [apply in_seq; lia | apply HR; assumption]. }
  apply Rabs_le. split.
  - assert (Rm l j - Rm l i <= top_real (rowrange Ri c l)); [|lra].
    apply le_top; [exact Ht|]. unfold rowrange. cbv zeta. apply encl_sub; apply HH; assumption.
  - apply le_top; [exact Ht|]. unfold rowrange. cbv zeta. apply encl_sub; apply HH; assumption.
Qed.

(** The row difference of L R is below the real the interval [rd_bound] encloses. *)
Lemma rd_bound_spec (k c q i j : nat) (Li Ri : imatrix) (Lm Rm : matrix) :
  (forall l, (l < k)%nat -> encl (iget Li q l) (Lm q l)) -> encl_mat k c Ri Rm ->
  rd_ok (rr_list Ri k c) = true -> (i < c)%nat -> (j < c)%nat ->
  exists B, encl (rd_bound Li (rr_list Ri k c) k q) B /\ mmul k Lm Rm q i - mmul k Lm Rm q j <= B.
Proof.
  intros HL HR Hok Hi Hj. unfold rd_ok in Hok. rewrite forallb_forall in Hok.
  assert (Hn : forall l, (l < k)%nat -> nth l (rr_list Ri k c) I.nai = rowrange Ri c l)
    by (intros; unfold rr_list; apply nth_map_seq; assumption).
  assert (Ht : forall l, (l < k)%nat -> has_top (rowrange Ri c l) = true)
    by (intros l Hl; rewrite <- Hn by exact Hl; apply Hok, nth_In; unfold rr_list; rewrite map_length, seq_length; exact Hl).
  exists (rsum k (fun l => Rabs (Lm q l) * top_real (rowrange Ri c l))). split.
  - apply encl_isum. intros l Hl. rewrite Hn by exact Hl. apply encl_mul; [apply encl_abs, HL, Hl|].
    apply encl_top, Ht, Hl.
  - apply row_diff_bound. intros l Hl. apply (rowrange_abs _ _ k); try assumption. apply Ht, Hl.
Qed.

Lemma encl_neg' xi x : encl xi x -> encl (I.neg xi) (- x).
Proof. intros Hx. exact (I.neg_correct xi (Xreal x) Hx). Qed.

(** An interval from a lower end of [J1] to an upper end of [J2] contains what lies between. *)
Lemma encl_between (J1 J2 : I.type) (x : R) :
  has_bot J1 = true -> has_top J2 = true -> bot_real J1 <= x <= top_real J2 ->
  encl (Float.Ibnd (I.lower J1) (I.upper J2)) x.
Proof.
  unfold has_bot, has_top, bot_real, top_real, encl. intros H1 H2 Hx.
  rewrite F.real_correct in H1, H2. unfold F.toR in Hx. simpl.
  destruct (F.toX (I.lower J1)) as [|l]; [discriminate|].
  destruct (F.toX (I.upper J2)) as [|u]; [discriminate|]. simpl in Hx |- *. lra.
Qed.

(** ** The max_diff mode: the factors, the claimed eps checked per query *)

Section MaxDiff.
Variable M : model.
Variables (a b : list Z) (e : Z).   (* the witness's rank_one: a, b (d mantissas), exponent *)

Local Notation v := (d_vocab M).
Local Notation d := (d_model M).

(** G = Q K^T - a b^T, exactly. *)
Definition zG : tensor :=
  zouter_sub d d (zmul d (d_head M) d (W_Q M) (ztranspose d (d_head M) (W_K M))) a b e.

(** The two split points of E_q G E^T: (E_q)(G E^T) and (E_q G)(E^T), rounded once. *)
Definition iL1 : imatrix := ztoi v d (zE_q M).
Definition iR1 : imatrix := ztoi d v (zmul d d v zG (ztranspose v d (W_E M))).
Definition iL2 : imatrix := ztoi v d (zmul v d d (zE_q M) zG).
Definition iR2 : imatrix := ztoi d v (ztranspose v d (W_E M)).

Lemma zG_eq : zmat_eq d d zG (gmat M (dy a e) (dy b e)).
Proof.
  unfold zG, gmat, qk. apply zouter_sub_eq. apply zmul_eq; [apply zmat_eq_entry|].
  apply ztranspose_eq, zmat_eq_entry.
Qed.

Hypothesis Hn : (0 < n_ctx M)%nat.

Lemma encl_L1 : encl_mat v d iL1 (E_q M).
Proof. apply encl_ztoi, zE_q_eq, Hn. Qed.

Lemma encl_R1 : encl_mat d v iR1 (mmul d (gmat M (dy a e) (dy b e)) (transpose (mE M))).
Proof. apply encl_ztoi, zmul_eq; [apply zG_eq | apply ztranspose_eq, zmat_eq_entry]. Qed.

Lemma encl_L2 : encl_mat v d iL2 (mmul d (E_q M) (gmat M (dy a e) (dy b e))).
Proof. apply encl_ztoi, zmul_eq; [apply zE_q_eq, Hn | apply zG_eq]. Qed.

Lemma encl_R2 : encl_mat d v iR2 (transpose (mE M)).
Proof. apply encl_ztoi, ztranspose_eq, zmat_eq_entry. Qed.

End MaxDiff.

(** eps[q] is accepted when one split point's (RD) bound is certainly below it. *)
Definition eps_ok (Li1 : imatrix) (R1s : list I.type) (Li2 : imatrix) (R2s : list I.type) (k q : nat) (epsq : I.type) : bool :=
  rd_ok R1s && rd_ok R2s &&
  (is_negative (I.sub prec (rd_bound Li1 R1s k q) epsq) || is_negative (I.sub prec (rd_bound Li2 R2s k q) epsq)).

(** An accepted eps[q] bounds every row difference of the error, both ways. *)
Lemma eps_ok_spec (M : model) (a b : list Z) (e : Z) (epsq : I.type) (epsr : R) (q i j : nat) :
  (0 < n_ctx M)%nat -> (q < d_vocab M)%nat -> (i < d_vocab M)%nat -> (j < d_vocab M)%nat ->
  encl epsq epsr ->
  eps_ok (iL1 M) (rr_list (iR1 M a b e) (d_model M) (d_vocab M)) (iL2 M a b e) (rr_list (iR2 M) (d_model M) (d_vocab M))
    (d_model M) q epsq = true ->
  err M (dy a e) (dy b e) q i - err M (dy a e) (dy b e) q j < epsr.
Proof.
  intros Hn Hq Hi Hj He Hok. unfold eps_ok in Hok.
  apply andb_prop in Hok as [Hok Hneg]. apply andb_prop in Hok as [Hr1 Hr2].
  apply orb_prop in Hneg as [Hneg|Hneg].
  - destruct (rd_bound_spec (d_model M) (d_vocab M) q i j (iL1 M) (iR1 M a b e) (E_q M)
                (mmul (d_model M) (gmat M (dy a e) (dy b e)) (transpose (mE M)))) as [B [HB Hd]]; try assumption.
    + intros l Hl. apply (encl_L1 M Hn); assumption.
    + apply encl_R1.
    + rewrite !err_two_splits. pose proof (encl_is_negative _ _ (encl_sub _ _ _ _ HB He) Hneg). lra.
  - destruct (rd_bound_spec (d_model M) (d_vocab M) q i j (iL2 M a b e) (iR2 M)
                (mmul (d_model M) (E_q M) (gmat M (dy a e) (dy b e))) (transpose (mE M))) as [B [HB Hd]]; try assumption.
    + intros l Hl. apply (encl_L2 M a b e Hn); assumption.
    + apply encl_R2.
    + unfold err. pose proof (encl_is_negative _ _ (encl_sub _ _ _ _ HB He) Hneg). lra.
Qed.
