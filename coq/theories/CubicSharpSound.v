(** * Soundness of the cubic-sharp checker (CubicSharp.v, docs/proofs/cubic_sharp.md)

    [mix_rsum] is the mixing step (cubic_sharp.md Lemma 2.2, here over positions: a sum of
    position weights times per-position bounds, each of which passes the test with the total
    weight, is negative); [sharp_ok_sound]: a value k in S# satisfies the per-x test at every
    competitor; [sharp_case_sound]: every sequence of a certified case is correct.  The
    witness list is, as in CubicSound.v, the duplicate-free union over certified cases of the
    explicit products "position p ranges over S# or over {m}" ([sharp_witness_NoDup],
    [sharp_witness_correct], [sharp_witness_length]); [cubic_sharp_sound]. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence Cubic CubicSound CubicSharp.
Import ListNotations.
Open Scope R_scope.

(** ** Generic facts *)

Lemma all_b_In {A} (f : A -> bool) (l : list A) (a : A) : all_b f l = true -> In a l -> f a = true.
Proof.
  induction l as [|b l IH]; simpl; [intros _ []|].
  destruct (f b) eqn:Hb; [|discriminate]. intros H [<-|Ha]; [exact Hb | apply IH; assumption].
Qed.

Lemma zmaxl_acc (f : nat -> Z) (l : list nat) (d : Z) : (d <= zmaxl f l d)%Z.
Proof.
  unfold zmaxl. revert d. induction l as [|a l IH]; intros d; simpl; [lia|].
  specialize (IH (Z.max d (f a))). lia.
Qed.

Lemma zmaxl_ge (f : nat -> Z) (l : list nat) (d : Z) (i : nat) : In i l -> (f i <= zmaxl f l d)%Z.
Proof.
  revert d. induction l as [|a l IH]; intros d Hi; simpl in Hi; [destruct Hi|].
  unfold zmaxl. simpl. destruct Hi as [<-|Hi].
  - pose proof (zmaxl_acc f l (Z.max d (f a))) as H. unfold zmaxl in H. lia.
  - apply IH, Hi.
Qed.

Lemma rsum_zero (k : nat) : rsum k (fun _ => 0) = 0.
Proof. induction k as [|k IH]; simpl; [reflexivity|]. rewrite IH. ring. Qed.

Lemma rsum_nonpos (k : nat) (f : nat -> R) : (forall i, (i < k)%nat -> f i <= 0) -> rsum k f <= 0.
Proof.
  intros H. apply (Rle_trans _ (rsum k (fun _ => 0))); [apply rsum_le; exact H | rewrite rsum_zero; lra].
Qed.

Lemma rsum_neg (k : nat) (f : nat -> R) :
  (forall i, (i < k)%nat -> f i <= 0) -> (exists i, (i < k)%nat /\ f i < 0) -> rsum k f < 0.
Proof.
  induction k as [|k IH]; intros Hle [i [Hi Hf]]; [lia|]. simpl.
  destruct (Nat.eq_dec i k) as [->|Hne].
  - assert (rsum k f <= 0) by (apply rsum_nonpos; intros; apply Hle; lia). lra.
  - assert (rsum k f < 0) by (apply IH; [intros; apply Hle; lia | exists i; split; [lia | exact Hf]]).
    assert (f k <= 0) by (apply Hle; lia). lra.
Qed.

(** The mixing step (cubic_sharp.md Lemma 2.2), over positions: if, for every selected
    position p, A + Y b_p < 0 with Y the total selected weight, then A + sum_p w_p b_p < 0. *)
Lemma mix_rsum (k : nat) (sel : nat -> bool) (w b : nat -> R) (A : R) :
  (exists p, (p < k)%nat /\ sel p = true) ->
  (forall p, (p < k)%nat -> sel p = true -> 0 < w p) ->
  (forall p, (p < k)%nat -> sel p = true ->
     A + rsum k (fun i => if sel i then w i else 0) * b p < 0) ->
  A + rsum k (fun i => if sel i then w i * b i else 0) < 0.
Proof.
  intros [p0 [Hp0 Hs0]] Hw Hb.
  set (Y := rsum k (fun i => if sel i then w i else 0)) in *.
  assert (HY : 0 < Y).
  { assert (H : rsum k (fun i => (-1) * (if sel i then w i else 0)) < 0).
    { apply rsum_neg.
      - intros i Hi. destruct (sel i) eqn:E; [pose proof (Hw i Hi E); lra | lra].
      - exists p0. split; [exact Hp0|]. rewrite Hs0. pose proof (Hw p0 Hp0 Hs0). lra. }
    rewrite rsum_scal_l in H. fold Y in H. lra. }
  assert (Hs : rsum k (fun i => if sel i then w i * (A + Y * b i) else 0) < 0).
  { apply rsum_neg.
    - intros i Hi. destruct (sel i) eqn:E; [|lra].
      pose proof (Hw i Hi E). pose proof (Hb i Hi E).
      assert (0 < w i * (- (A + Y * b i))) by (apply Rmult_lt_0_compat; lra). lra.
    - exists p0. split; [exact Hp0|]. rewrite Hs0.
      pose proof (Hw p0 Hp0 Hs0). pose proof (Hb p0 Hp0 Hs0).
      assert (0 < w p0 * (- (A + Y * b p0))) by (apply Rmult_lt_0_compat; lra). lra. }
  rewrite (rsum_ext _ _ (fun i => A * (if sel i then w i else 0) + Y * (if sel i then w i * b i else 0)))
    in Hs by (intros i _; destruct (sel i); ring).
  rewrite rsum_plus, !rsum_scal_l in Hs. fold Y in Hs.
  set (T := rsum k (fun i => if sel i then w i * b i else 0)) in *.
  destruct (Rlt_or_le (A + T) 0) as [H|H]; [exact H|]. exfalso.
  assert (0 <= Y * (A + T)) by (apply Rmult_le_pos; lra). lra.
Qed.

Lemma count_true_pos (l : list bool) :
  count_true l <> 0%nat -> exists p, (p < length l)%nat /\ nth p l false = true.
Proof.
  induction l as [|b l IH]; simpl; [lia|]. intros H. destruct b.
  - exists 0%nat. split; [lia | reflexivity].
  - destruct (IH H) as [p [Hp Hb]]. exists (S p). split; [lia | exact Hb].
Qed.

Lemma encl_isel (k : nat) (sel : nat -> bool) (fi : nat -> I.type) (f : nat -> R) (acc : I.type) (a : R) :
  encl acc a -> (forall i, (i < k)%nat -> sel i = false -> encl (fi i) (f i)) ->
  encl (isel k sel fi acc) (a + rsum k (fun i => if sel i then 0 else f i)).
Proof.
  intros Ha Hf. induction k as [|k IH]; simpl.
  - rewrite Rplus_0_r. exact Ha.
  - destruct (sel k) eqn:Hs.
    + rewrite Rplus_0_r. apply IH. intros; apply Hf; [lia | assumption].
    + rewrite <- Rplus_assoc. apply encl_add; [|apply Hf; [lia | exact Hs]].
      apply IH. intros; apply Hf; [lia | assumption].
Qed.

Lemma neg_at_sound (f y g : I.type) (a b c : R) :
  neg_at f y g = true -> encl f a -> encl y b -> encl g c -> a + b * c < 0.
Proof.
  unfold neg_at. intros H Ha Hb Hc.
  exact (encl_is_negative _ _ (encl_add _ _ _ _ Ha (encl_mul _ _ _ _ Hb Hc)) H).
Qed.

Section SharpSound.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).
Local Notation TE := (te M IP).
Local Notation TPI := (tpi M IP).
Local Notation others := (Cubic.others M).
Local Notation pstar_row := (CubicSharp.pstar_row M L).
Local Notation rx_row := (CubicSharp.rx_row M L).
Local Notation hz := (CubicSharp.hz L).
Local Notation dz := (CubicSharp.dz M L).
Local Notation rxz := (CubicSharp.rxz M L).
Local Notation trows := (CubicSharp.trows M L).
Local Notation fval := (CubicSharp.fval M).
Local Notation yval := (CubicSharp.yval M).
Local Notation mq_of := (CubicSharp.mq_of M L).
Local Notation sharp_ok := (CubicSharp.sharp_ok M L).
Local Notation sharp_case := (CubicSharp.sharp_case M L).
Local Notation sharp_list := (CubicSharp.sharp_list M L).
Local Notation sharp_case_count := (CubicSharp.sharp_case_count M L).
Local Notation sharp_count_mq := (CubicSharp.sharp_count_mq M L).
Local Notation sharp_count := (CubicSharp.sharp_count M IP L).
Local Notation mask_of := (CubicSound.mask_of M).

(** The data of the case (m, q, mask), as the count and the witness compute them. *)
Definition data_of (m q : nat) : mq_data :=
  mq_of TE (nth q TPI []) (pstar_row m) (rx_row (pstar_row m) m) q m.

Definition case_of (m q : nat) (mk : list bool) : bool * list nat :=
  sharp_case TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk.

Definition sharp_witness : list (list nat) :=
  flat_map (fun m =>
    flat_map (fun q =>
      flat_map (fun mk => sharp_list TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk)
      (all_masks (n - 1)))
    (seq 0 (S m)))
  (seq 0 v).

Hypothesis Hn : (0 < n)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.
Hypothesis HL : zh_spec M L.

Definition hreal (z : Z) : R := IZR z * powerRZ 2 (lexp L).

Lemma hreal_le (a b : Z) : (a <= b)%Z -> hreal a <= hreal b.
Proof.
  intros H. unfold hreal. apply Rmult_le_compat_r; [left; apply powerRZ_lt; lra | apply IZR_le, H].
Qed.

Lemma encl_iz (z : Z) : encl (iz L z) (hreal z).
Proof. apply encl_iround. Qed.

Lemma e_pos (q t : nat) : 0 < e_real M q t.
Proof. apply exp_pos. Qed.

Lemma pi_pos (q p : nat) : 0 < pi_real M q p.
Proof. apply exp_pos. Qed.

Lemma nth_pstar_row (m x : nat) : (x < v)%nat -> nth x (pstar_row m) 0%Z = pstarz M L m x.
Proof. intros Hx. unfold CubicSharp.pstar_row. apply nth_map_seq, Hx. Qed.

(** h_p(x) <= H_k(x) (cubic_sharp.md Lemma 1.1), in integers. *)
Lemma zh_le_hz (q k m x p : nat) :
  (p < n)%nat -> (x < v)%nat -> (zh L q k m x p <= hz (pstar_row m) q k m x)%Z.
Proof.
  intros Hp Hx. unfold zh, CubicSharp.hz, dUz, dVz. rewrite nth_pstar_row by exact Hx.
  pose proof (zmaxl_ge (fun p => dPz L p m x) (seq 0 n) (dPz L 0 m x) p ltac:(apply in_seq; lia)) as H.
  unfold pstarz. unfold dPz in H |- *. lia.
Qed.

(** H_k(x) <= D[q] + Rx[k] for x not in {m, k}. *)
Lemma hz_le_dz_rx (q k m x : nat) :
  (x < v)%nat -> x <> m -> x <> k ->
  (hz (pstar_row m) q k m x <= dz q m + rxz (pstar_row m) m k)%Z.
Proof.
  intros Hx Hxm Hxk. unfold CubicSharp.hz, CubicSharp.dz, CubicSharp.rxz.
  pose proof (zmaxl_ge (fun x => dUz L q m x) (others m) 0%Z x ltac:(apply (in_others M Hn Hdh); assumption)).
  assert (Hin : In x (excl M m k)).
  { unfold excl. apply filter_In. split; [apply in_seq; lia|].
    apply andb_true_intro. split; apply negb_true_iff, Nat.eqb_neq; assumption. }
  pose proof (zmaxl_ge (fun x => (dVz L k m x + nth x (pstar_row m) 0)%Z) (excl M m k) 0%Z x Hin).
  simpl in *. lia.
Qed.

(** ** The fixed positions *)

Lemma trows_spec (q m p x : nat) :
  (q < v)%nat -> (m < v)%nat -> (p < n)%nat -> (x < v)%nat ->
  encl (nth x (nth p (trows TE (nth q TPI []) q m) []) I.nai)
       (e_real M q (fixed_tok M q m p) * pi_real M q p * hreal (zh L q (fixed_tok M q m p) m x p)).
Proof.
  intros Hq Hm Hp Hx. unfold CubicSharp.trows.
  rewrite (nth_map_seq _ n p [] Hp). cbv zeta. rewrite (nth_map_seq _ v x I.nai Hx).
  assert (Ht : (fixed_tok M q m p < v)%nat) by (unfold fixed_tok; destruct (Nat.eqb p (n - 1)); assumption).
  apply encl_mul; [apply encl_mul|apply encl_iz].
  - apply (te_spec M IP Hdh HIP); assumption.
  - apply (tpi_spec M IP Hdh HIP); assumption.
Qed.

Section Seq.
Variable t : list nat.
Hypothesis Ht : valid_seq M t.
Let m := list_max t.
Let q := query M t.
Let mask := mask_of t m.

Lemma m_lt : (m < v)%nat.
Proof. apply (valid_max M Hn Hdh), Ht. Qed.

Lemma q_lt : (q < v)%nat.
Proof. apply (valid_query M Hn Hdh), Ht. Qed.

Lemma nth_mask (p : nat) : (p < n - 1)%nat -> nth p mask false = Nat.ltb (tok t p) m.
Proof. intros Hp. unfold mask, CubicSound.mask_of. rewrite nth_map_seq by exact Hp. reflexivity. Qed.

Lemma mask_length : length mask = (n - 1)%nat.
Proof. unfold mask, CubicSound.mask_of. rewrite map_length, seq_length. reflexivity. Qed.

(** exp(s_p) h_p(x) with the weights of the tables and h exact. *)
Lemma term_eq (x p : nat) : (x < v)%nat -> (p < n)%nat ->
  exp (score M t p) * h M t m x p = e_real M q (tok t p) * pi_real M q p * hreal (zh L q (tok t p) m x p).
Proof.
  intros Hx Hp. rewrite (exp_score M). unfold hreal, q.
  rewrite (HL t m x p Ht m_lt Hx Hp). reflexivity.
Qed.

Definition Freal (x : nat) : R :=
  exp (score M t (n - 1)) * h M t m x (n - 1)
  + rsum (n - 1) (fun p => if nth p mask false then 0 else exp (score M t p) * h M t m x p).

Definition Yreal : R := rsum (n - 1) (fun p => if nth p mask false then pi_real M q p else 0).

Lemma unnormalised_split (x : nat) :
  unnormalised M t m x
  = Freal x + rsum (n - 1) (fun p => if nth p mask false then exp (score M t p) * h M t m x p else 0).
Proof.
  unfold unnormalised, Freal. rewrite (rsum_last M Hn Hdh _ _ Hn).
  rewrite (rsum_ext (n - 1) _ (fun p => (if nth p mask false then 0 else exp (score M t p) * h M t m x p)
                                  + (if nth p mask false then exp (score M t p) * h M t m x p else 0)))
    by (intros p _; destruct (nth p mask false); ring).
  rewrite rsum_plus. ring.
Qed.

Lemma F_spec (x : nat) : (x < v)%nat ->
  encl (fval (trows TE (nth q TPI []) q m) mask x) (Freal x).
Proof.
  intros Hx. unfold CubicSharp.fval, Freal. apply encl_isel.
  2:{ intros p Hp Hb.
    rewrite nth_mask in Hb by exact Hp. apply Nat.ltb_ge in Hb.
    assert (Htp : tok t p = m).
    { apply Nat.le_antisymm; [apply (tok_le_max M Hn Hdh); [exact Ht | lia] | exact Hb]. }
    assert (Hf : fixed_tok M q m p = m) by (unfold fixed_tok; replace (Nat.eqb p (n - 1)) with false
                                              by (symmetry; apply Nat.eqb_neq; lia); reflexivity).
    rewrite term_eq by (assumption || lia).
    replace (tok t p) with (fixed_tok M q m p) by congruence.
    apply trows_spec; [apply q_lt | apply m_lt | lia | exact Hx]. }
  assert (Hf : fixed_tok M q m (n - 1) = q) by (unfold fixed_tok; rewrite Nat.eqb_refl; reflexivity).
  rewrite term_eq by (assumption || lia).
  replace (tok t (n - 1)) with (fixed_tok M q m (n - 1)) by (rewrite Hf; reflexivity).
  apply trows_spec; [apply q_lt | apply m_lt | lia | exact Hx].
Qed.

Lemma Y_spec : encl (yval (nth q TPI []) mask) Yreal.
Proof.
  unfold CubicSharp.yval, Yreal. apply encl_isum. intros p Hp.
  destruct (nth p mask false); [|apply encl_zero].
  apply (tpi_spec M IP Hdh HIP); [apply q_lt | lia].
Qed.

Lemma Y_nonneg : 0 <= Yreal.
Proof.
  unfold Yreal. apply (Rle_trans _ (rsum (n - 1) (fun _ => 0))); [rewrite rsum_zero; lra|].
  apply rsum_le. intros p _. destruct (nth p mask false); [left; apply pi_pos | lra].
Qed.

(** A value in S# passes the per-x test at every competitor (cubic_sharp.md Lemma 3.2). *)
Lemma sharp_ok_sound (k : nat) :
  (k < m)%nat ->
  let D := data_of m q in
  let Fl := map (fval (mq_Tr D) mask) (seq 0 v) in
  sharp_ok TE (pstar_row m) D Fl (ijoin (fun x => nth x Fl I.nai) (others m)) (yval (nth q TPI []) mask) q m k = true ->
  forall x, (x < v)%nat -> x <> m ->
  Freal x + Yreal * (e_real M q k * hreal (hz (pstar_row m) q k m x)) < 0.
Proof.
  intros Hk D Fl Hok x Hx Hxm.
  pose proof m_lt as Hm. pose proof q_lt as Hq.
  assert (HF : forall y, (y < v)%nat -> encl (nth y Fl I.nai) (Freal y)).
  { intros y Hy. unfold Fl. rewrite (nth_map_seq _ v y I.nai Hy). apply F_spec, Hy. }
  assert (Hg : forall y, encl (I.mul prec (iget TE q k) (iz L (hz (pstar_row m) q k m y)))
                              (e_real M q k * hreal (hz (pstar_row m) q k m y))).
  { intros y. apply encl_mul; [apply (te_spec M IP Hdh HIP); lia | apply encl_iz]. }
  unfold CubicSharp.sharp_ok in Hok.
  destruct (neg_at _ _ (nth k (mq_gs D) I.nai)) eqn:H1; [|discriminate].
  destruct (Nat.eq_dec x k) as [->|Hxk].
  { apply (neg_at_sound _ _ _ _ _ _ H1); [apply HF, Hx | apply Y_spec|].
    unfold D, data_of, CubicSharp.mq_of. simpl. rewrite (nth_map_seq _ m k I.nai Hk). apply Hg. }
  destruct (neg_at _ _ (nth k (mq_gx D) I.nai)) eqn:H2.
  - assert (Hb : Freal x + Yreal * (e_real M q k * hreal (dz q m + nth k (rx_row (pstar_row m) m) 0%Z)) < 0).
    { apply (neg_at_sound _ _ _ _ _ _ H2).
      - apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption | apply HF, Hx].
      - apply Y_spec.
      - unfold D, data_of, CubicSharp.mq_of. simpl. rewrite (nth_map_seq _ m k I.nai Hk).
        apply encl_mul; [apply (te_spec M IP Hdh HIP); lia | apply encl_iz]. }
    unfold CubicSharp.rx_row in Hb. rewrite (nth_map_seq _ m k 0%Z Hk) in Hb.
    pose proof (hreal_le _ _ (hz_le_dz_rx q k m x Hx Hxm Hxk)) as Hle.
    pose proof (e_pos q k). pose proof Y_nonneg.
    assert (Yreal * (e_real M q k * hreal (hz (pstar_row m) q k m x))
            <= Yreal * (e_real M q k * hreal (dz q m + rxz (pstar_row m) m k))).
    { apply Rmult_le_compat_l; [lra|]. apply Rmult_le_compat_l; lra. }
    lra.
  - assert (Hx' : In x (rev (others m))) by (apply (proj1 (in_rev _ _)), (in_others M Hn Hdh); assumption).
    pose proof (all_b_In _ _ x Hok Hx') as H. simpl in H.
    apply (neg_at_sound _ _ _ _ _ _ H); [apply HF, Hx | apply Y_spec | apply Hg].
Qed.

(** Every sequence of a certified case is correct. *)
Theorem sharp_case_sound :
  fst (case_of m q mask) = true ->
  (forall p, (p < n - 1)%nat -> (tok t p < m)%nat -> In (tok t p) (snd (case_of m q mask))) ->
  correct M t.
Proof.
  intros Hok HS x Hx Hxm. fold m in Hxm |- *.
  pose proof m_lt as Hm. pose proof q_lt as Hq.
  apply (wins_iff_unnormalised_neg M t m x Hn). rewrite unnormalised_split.
  unfold case_of, CubicSharp.sharp_case in Hok, HS.
  destruct (Nat.eqb (count_true mask) 0) eqn:Hc.
  - simpl in Hok. apply Nat.eqb_eq in Hc.
    rewrite (rsum_ext _ _ (fun _ => 0)) by (intros p _; rewrite (count_true_0 M Hn Hdh mask p Hc); reflexivity).
    rewrite rsum_zero, Rplus_0_r.
    pose proof (all_b_In _ _ x Hok ltac:(apply (in_others M Hn Hdh); assumption)) as H. simpl in H.
    rewrite (nth_map_seq _ v x I.nai Hx) in H.
    apply (encl_is_negative _ _ (F_spec x Hx) H).
  - apply Nat.eqb_neq in Hc. cbv zeta in HS. simpl in HS.
    set (b := fun p => e_real M q (tok t p) * hreal (hz (pstar_row m) q (tok t p) m x)).
    apply (Rle_lt_trans _ (Freal x + rsum (n - 1) (fun p => if nth p mask false then pi_real M q p * b p else 0))).
    + apply Rplus_le_compat_l, rsum_le. intros p Hp. destruct (nth p mask false); [|lra].
      rewrite term_eq by (assumption || lia). unfold b.
      pose proof (hreal_le _ _ (zh_le_hz q (tok t p) m x p ltac:(lia) Hx)).
      pose proof (e_pos q (tok t p)). pose proof (pi_pos q p).
      replace (e_real M q (tok t p) * pi_real M q p * hreal (zh L q (tok t p) m x p))
        with (pi_real M q p * (e_real M q (tok t p) * hreal (zh L q (tok t p) m x p))) by ring.
      apply Rmult_le_compat_l; [lra|]. apply Rmult_le_compat_l; lra.
    + apply (mix_rsum (n - 1) (fun p => nth p mask false) (fun p => pi_real M q p) b (Freal x)).
      * destruct (count_true_pos mask Hc) as [p [Hp Hb]]. rewrite mask_length in Hp.
        exists p. split; assumption.
      * intros p _ _. apply pi_pos.
      * intros p Hp Hb. rewrite nth_mask in Hb by exact Hp. apply Nat.ltb_lt in Hb.
        specialize (HS p Hp Hb). apply filter_In in HS as [Hin Hk].
        apply (sharp_ok_sound (tok t p) Hb Hk x Hx Hxm).
Qed.

End Seq.

(** ** The witness list: duplicate-free, correct, and as long as the count *)

Lemma case_of_lt (m q : nat) (mk : list bool) (k : nat) : In k (snd (case_of m q mk)) -> (k < m)%nat.
Proof.
  unfold case_of, CubicSharp.sharp_case. destruct (Nat.eqb (count_true mk) 0); simpl; [intros []|].
  intros H. apply filter_In in H as [H _]. apply in_seq in H. lia.
Qed.

Lemma case_of_NoDup (m q : nat) (mk : list bool) : NoDup (snd (case_of m q mk)).
Proof.
  unfold case_of, CubicSharp.sharp_case. destruct (Nat.eqb (count_true mk) 0); simpl; [constructor|].
  apply NoDup_filter, seq_NoDup.
Qed.

Lemma sharp_list_eq (m q : nat) (mk : list bool) :
  sharp_list TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk
  = if valid_key q m mk && fst (case_of m q mk) then product (choices q m mk (snd (case_of m q mk))) else [].
Proof.
  unfold CubicSharp.sharp_list, case_of. destruct (valid_key q m mk); reflexivity.
Qed.

Lemma sharp_list_shape (t : list nat) (m q : nat) (mk : list bool) :
  (m < v)%nat -> (q <= m)%nat -> In mk (all_masks (n - 1)) ->
  In t (sharp_list TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk) ->
  case_shape M t q m mk (snd (case_of m q mk)) /\ fst (case_of m q mk) = true.
Proof.
  intros Hm Hq Hmk Ht. rewrite sharp_list_eq in Ht.
  destruct (valid_key q m mk) eqn:Hkey; [|destruct Ht].
  destruct (fst (case_of m q mk)) eqn:Hok; [|destruct Ht]. simpl in Ht.
  split; [|reflexivity].
  apply (product_choices_shape M Hn Hdh); try assumption.
  - apply (all_masks_length M Hn Hdh). exact Hmk.
  - intros k Hk. apply (case_of_lt _ _ _ _ Hk).
Qed.

Lemma in_sharp_witness (t : list nat) :
  In t sharp_witness <-> exists m q mk, (m < v)%nat /\ (q <= m)%nat /\ In mk (all_masks (n - 1)) /\
    In t (sharp_list TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk).
Proof.
  unfold sharp_witness. split.
  - intros H. apply in_flat_map in H as [m [Hm H]]. apply in_flat_map in H as [q [Hq H]].
    apply in_flat_map in H as [mk [Hmk H]]. apply in_seq in Hm, Hq.
    exists m, q, mk. repeat split; try lia; assumption.
  - intros [m [q [mk [Hm [Hq [Hmk H]]]]]]. apply in_flat_map. exists m. split; [apply in_seq; lia|].
    apply in_flat_map. exists q. split; [apply in_seq; lia|].
    apply in_flat_map. exists mk. split; assumption.
Qed.

Theorem sharp_witness_correct (t : list nat) : In t sharp_witness -> valid_seq M t /\ correct M t.
Proof.
  intros H. apply in_sharp_witness in H as [m [q [mk [Hm [Hq [Hmk Ht]]]]]].
  destruct (sharp_list_shape t m q mk Hm Hq Hmk Ht) as [Hs Hok].
  destruct Hs as [Hv Hmax Hquery Hmask HS].
  split; [exact Hv|]. apply (sharp_case_sound t Hv).
  - rewrite Hmax, Hquery. fold (mask_of t m). rewrite Hmask. exact Hok.
  - rewrite Hmax, Hquery. fold (mask_of t m). rewrite Hmask. exact HS.
Qed.

Lemma sharp_list_NoDup (m q : nat) (mk : list bool) :
  NoDup (sharp_list TE (nth q TPI []) (pstar_row m) (data_of m q) q m mk).
Proof.
  rewrite sharp_list_eq. destruct (_ && _); [|constructor].
  apply NoDup_product. unfold choices. apply Forall_app. split.
  - apply Forall_forall. intros c Hc. apply in_map_iff in Hc as [b [<- _]].
    destruct b; [apply case_of_NoDup | constructor; [simpl; tauto | constructor]].
  - constructor; [constructor; [simpl; tauto | constructor] | constructor].
Qed.

Theorem sharp_witness_NoDup : NoDup sharp_witness.
Proof.
  unfold sharp_witness. apply (NoDup_flat_map_keyed _ (@list_max)); [apply seq_NoDup| |].
  - intros m Hm. apply in_seq in Hm.
    apply (NoDup_flat_map_keyed _ (query M)); [apply seq_NoDup| |].
    + intros q Hq. apply in_seq in Hq.
      apply (NoDup_flat_map_keyed _ (key_of M)); [apply all_masks_NoDup| |].
      * intros mk _. apply sharp_list_NoDup.
      * intros mk t Hmk Ht. destruct (sharp_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
        unfold key_of. rewrite (shape_max _ _ _ _ _ _ Hs). apply (shape_mask _ _ _ _ _ _ Hs).
    + intros q t Hq Ht. apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
      destruct (sharp_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
      apply (shape_query _ _ _ _ _ _ Hs).
  - intros m t Hm Ht. apply in_seq in Hm. apply in_flat_map in Ht as [q [Hq Ht]].
    apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
    destruct (sharp_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
    apply (shape_max _ _ _ _ _ _ Hs).
Qed.

Theorem sharp_witness_length : length sharp_witness = N.to_nat sharp_count.
Proof.
  unfold sharp_witness, CubicSharp.sharp_count. cbv zeta. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros m _. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros q _. unfold CubicSharp.sharp_count_mq. cbv zeta. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros mk _. rewrite sharp_list_eq.
  unfold CubicSharp.sharp_case_count, case_of, data_of.
  destruct (valid_key q m mk); simpl; [|reflexivity].
  destruct (fst _); [|reflexivity].
  rewrite length_product, prodN_correct. reflexivity.
Qed.

End SharpSound.

(** ** The whole cubic-sharp check of a claim [N] and its soundness *)

Theorem cubic_sharp_sound (M : model) (N : N) :
  cubic_sharp_check M N = true -> certified_accuracy M (N.to_nat N).
Proof.
  intros H. destruct (run_check_inputs M _ N H) as (Hwf & IP & L & Hn & Hdh & HIP & HL & HN).
  split; [exact Hwf|]. unfold at_least_correct. exists (sharp_witness M IP L).
  split; [apply sharp_witness_NoDup; assumption|]. split.
  - rewrite sharp_witness_length by assumption. lia.
  - apply Forall_forall. intros t Ht. apply (sharp_witness_correct M IP L Hn Hdh HIP HL t Ht).
Qed.
