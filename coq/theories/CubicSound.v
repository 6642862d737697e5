(** * Soundness of the cubic checker (Cubic.v, docs/proofs/cubic.md)

    [case_test_sound]: a certified case's test proves every sequence of the case correct;
    the theorem's witness list is the duplicate-free union, over certified cases, of the
    explicit products "position p ranges over S or over {m}" ([witness_NoDup],
    [witness_correct]), as long as the count ([witness_length]); [cubic_sound]. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence Cubic.
Import ListNotations.
Open Scope R_scope.

Section CubicSound.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).
Local Notation exp_table := (Cubic.exp_table M).
Local Notation te := (Cubic.te M IP).
Local Notation tpi := (Cubic.tpi M IP).
Local Notation others := (Cubic.others M).
Local Notation pstar := (Cubic.pstar M IP).
Local Notation ghat_row := (Cubic.ghat_row M IP).
Local Notation lam := (Cubic.lam M).
Local Notation masks_with := (Cubic.masks_with M).
Local Notation ysum := (Cubic.ysum M).
Local Notation choose_S := (Cubic.choose_S M).
Local Notation case_test := (Cubic.case_test M).
Local Notation decide_tab := (Cubic.decide_tab M L).
Local Notation case_ok := (Cubic.case_ok M L).
Local Notation case_list := (Cubic.case_list M L).
Local Notation case_count := (Cubic.case_count M L).
Local Notation S_for := (Cubic.S_for M).
Local Notation count_mq := (Cubic.count_mq M L).
Local Notation cubic_count := (Cubic.cubic_count M IP L).

Definition witness : list (list nat) :=
  flat_map (fun m =>
    flat_map (fun q =>
      flat_map (fun mk =>
        case_list (nth q tpi []) te (ghat_row te m) q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk))
      (all_masks (n - 1)))
    (seq 0 (S m)))
  (seq 0 v).

(** ** Soundness *)

Hypothesis Hn : (0 < n)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.
Hypothesis HL : zh_spec M L.

Definition rho : R := 1 / sqrt (INR (d_head M)).
Definition e_real (q t : nat) : R := exp (EQKE M q t * rho).
Definition pi_real (q p : nat) : R := exp (EQKP M q p * rho).

(** An exp table of an enclosed matrix encloses exp(entry / sqrt d_head). *)
Lemma exp_table_spec (r c : nat) (A : imatrix) (a : matrix) (i j : nat) :
  encl_mat r c A a -> (i < r)%nat -> (j < c)%nat -> encl (iget (exp_table r c A) i j) (exp (a i j * rho)).
Proof.
  intros HA Hi Hj. unfold Cubic.exp_table. rewrite iget_build by assumption.
  apply encl_exp, encl_mul; [apply HA; assumption | apply encl_inv_sqrt; exact Hdh].
Qed.

Lemma te_spec (q t : nat) : (q < v)%nat -> (t < v)%nat -> encl (iget te q t) (e_real q t).
Proof. destruct HIP as (_ & _ & _ & HE & _). apply exp_table_spec, HE. Qed.

Lemma tpi_spec (q p : nat) : (q < v)%nat -> (p < n)%nat -> encl (iget tpi q p) (pi_real q p).
Proof. destruct HIP as (_ & _ & _ & _ & HP). apply exp_table_spec, HP. Qed.

Lemma exp_score (t : list nat) (p : nat) :
  exp (score M t p) = e_real (query M t) (tok t p) * pi_real (query M t) p.
Proof.
  unfold score, e_real, pi_real, rho. rewrite <- exp_plus. f_equal. unfold Rdiv. ring.
Qed.

Theorem decide_tab_sound (t : list nat) :
  valid_seq M t -> decide_tab (nth (query M t) tpi []) te t = true -> correct M t.
Proof.
  intros Ht. apply (decide_ws_sound M L Hn Hdh HL); [exact Ht|]. intros p Hp.
  rewrite nth_map_seq by exact Hp. rewrite exp_score.
  pose proof (valid_query M Hn Hdh t Ht) as Hq.
  apply encl_mul.
  - apply te_spec; [exact Hq | apply (valid_tok M Hn Hdh t p Ht Hp)].
  - apply (tpi_spec _ p Hq Hp).
Qed.

Lemma in_others (m x : nat) : (x < v)%nat -> x <> m -> In x (others m).
Proof.
  intros Hx Hxm. unfold Cubic.others. apply filter_In. split.
  - apply in_seq. lia.
  - apply negb_true_iff, Nat.eqb_neq. exact Hxm.
Qed.

Lemma ghat_spec (m q t x p : nat) :
  (m < v)%nat -> (q <= m)%nat -> (t <= m)%nat -> (x < v)%nat -> x <> m -> (p < n)%nat ->
  encl (iget (ghat_row te m) q t)
    (((EUPU M q x - EUPU M q m) + ((EVOU M t x - EVOU M t m) + (PVOU M p x - PVOU M p m)))
     * e_real q t).
Proof.
  intros Hm Hq Ht Hx Hxm Hp. destruct HIP as (HU & HV & HPV & _ & _).
  unfold Cubic.ghat_row. rewrite iget_build by lia.
  apply encl_mul; [|apply te_spec; lia].
  replace ((EUPU M q x - EUPU M q m) + ((EVOU M t x - EVOU M t m) + (PVOU M p x - PVOU M p m)))
    with ((EUPU M q x - EUPU M q m) + ((EVOU M t x + (PVOU M p x - PVOU M p m)) - EVOU M t m))
    by ring.
  apply encl_add.
  - rewrite nth_map_seq by lia. apply encl_sub; [|apply HU; lia].
    apply (encl_ijoin _ _ x); [apply in_others; assumption|]. apply HU; lia.
  - rewrite nth_map_seq by lia. apply encl_sub; [|apply HV; lia].
    apply (encl_ijoin _ _ x); [apply in_others; assumption|].
    apply encl_add; [apply HV; lia|].
    rewrite nth_map_seq by exact Hx. unfold Cubic.pstar.
    apply (encl_ijoin _ _ p); [apply in_seq; lia|].
    apply encl_sub; apply HPV; assumption.
Qed.

Definition mask_of (t : list nat) (m : nat) : list bool :=
  map (fun p => Nat.ltb (tok t p) m) (seq 0 (n - 1)).

Lemma le_list_max (l : list nat) (a : nat) : In a l -> (a <= list_max l)%nat.
Proof.
  intros H. pose proof (proj1 (list_max_le l (list_max l)) (le_n _)) as HF.
  rewrite Forall_forall in HF. apply HF, H.
Qed.

Lemma tok_le_max (t : list nat) (p : nat) : valid_seq M t -> (p < n)%nat -> (tok t p <= list_max t)%nat.
Proof. intros [Hlen _] Hp. unfold tok. apply le_list_max, nth_In. lia. Qed.

Lemma rsum_last (k : nat) (f : nat -> R) : (0 < k)%nat -> rsum k f = rsum (k - 1) f + f (k - 1)%nat.
Proof. intros Hk. destruct k as [|k]; [lia|]. simpl. rewrite Nat.sub_0_r. reflexivity. Qed.

(** The case test certifies every valid sequence with key (max m, query q, mask) whose
    non-max non-query tokens lie in Sv. *)
Theorem case_test_sound (t : list nat) (Sv : list nat) :
  valid_seq M t ->
  (forall p, (p < n - 1)%nat -> (tok t p < list_max t)%nat -> In (tok t p) Sv) ->
  (forall k, In k Sv -> (k < v)%nat) ->
  case_test (nth (query M t) tpi []) (ghat_row te (list_max t)) (query M t) (list_max t)
    (mask_of t (list_max t)) Sv = true ->
  correct M t.
Proof.
  intros Ht HS HSv Htest x Hx Hxm.
  set (m := list_max t) in *. set (q := query M t) in *.
  assert (Hm : (m < v)%nat) by (apply valid_max; assumption).
  assert (Hq : (q < v)%nat) by (apply valid_query; assumption).
  unfold Cubic.case_test in Htest.
  set (G := ghat_row te m) in *.
  set (JS := ijoin (fun k => iget G q k) Sv) in *.
  apply andb_prop in Htest as [Htest Hneg]. apply andb_prop in Htest as [Htest Htq].
  apply andb_prop in Htest as [HtS Htm].
  apply (wins_iff_unnormalised_neg M t m x Hn).
  set (Lam := rsum (n - 1) (fun p => pi_real q p *
                 (if nth p (mask_of t m) false then top_real JS else top_real (iget G q m)))
              + pi_real q (n - 1) * top_real (iget G q q)).
  assert (Henc : encl (lam (nth q tpi []) (mask_of t m) (top JS) (top (iget G q m)) (top (iget G q q))) Lam).
  { unfold Cubic.lam, Lam. apply encl_add.
    - apply encl_isum. intros p Hp. apply encl_mul.
      + apply (tpi_spec q p Hq). lia.
      + destruct (nth p (mask_of t m) false); apply encl_top; assumption.
    - apply encl_mul; [apply (tpi_spec q (n - 1) Hq); lia | apply encl_top; assumption]. }
  pose proof (encl_is_negative _ _ Henc Hneg) as HLam.
  apply (Rle_lt_trans _ Lam); [|exact HLam].
  unfold unnormalised, Lam. rewrite rsum_last by exact Hn.
  (* every position: exp(s_p) h_p(x) = pi(p) * (h_p(x) e(t_p)) and h_p(x) e(t_p) <= its bound *)
  assert (Hterm : forall p, (p < n)%nat -> forall r,
            (forall y, encl (iget G q (tok t p)) y -> y <= r) ->
            exp (score M t p) * h M t m x p <= pi_real q p * r).
  { intros p Hp r Hr. rewrite exp_score. fold q.
    replace (e_real q (tok t p) * pi_real q p * h M t m x p)
      with (pi_real q p * ((h M t m x p) * e_real q (tok t p))) by ring.
    apply Rmult_le_compat_l; [left; apply exp_pos|]. apply Hr.
    unfold h. fold q. rewrite Rplus_assoc.
    apply ghat_spec; try assumption; apply tok_le_max; (assumption || lia). }
  apply Rplus_le_compat.
  - apply rsum_le. intros p Hp.
    assert (Hmk : nth p (mask_of t m) false = Nat.ltb (tok t p) m).
    { unfold mask_of. rewrite nth_map_seq by exact Hp. reflexivity. }
    rewrite Hmk. apply Hterm; [lia|]. intros y Hy.
    destruct (Nat.ltb (tok t p) m) eqn:Hlt.
    + apply le_top; [exact HtS|]. apply Nat.ltb_lt in Hlt.
      apply (encl_ijoin _ _ (tok t p)); [apply HS; assumption | exact Hy].
    + apply Nat.ltb_ge in Hlt.
      assert (Heq : tok t p = m).
      { apply Nat.le_antisymm; [|exact Hlt]. unfold m, tok.
        apply le_list_max, nth_In. destruct Ht as [Hlen _]. lia. }
      rewrite Heq in Hy. apply le_top; assumption.
  - apply Hterm; [lia|]. intros y Hy. apply le_top; [exact Htq|]. exact Hy.
Qed.

(** ** The sequences of a case *)

Lemma Forall2_nth_In {A} (l1 : list A) (l2 : list (list A)) (d : A) :
  Forall2 (fun a c => In a c) l1 l2 ->
  length l1 = length l2 /\ forall i, (i < length l1)%nat -> In (nth i l1 d) (nth i l2 []).
Proof.
  intros H. induction H as [|a c l1 l2 Ha H IH]; simpl; [split; [reflexivity | intros; lia]|].
  destruct IH as [Hlen IH]. split; [lia|].
  intros [|i] Hi; [exact Ha | apply IH; lia].
Qed.

Lemma nth_choices (q m : nat) (mask : list bool) (Sv : list nat) (i : nat) :
  nth i (choices q m mask Sv) []
  = if Nat.ltb i (length mask) then (if nth i mask false then Sv else [m])
    else if Nat.eqb i (length mask) then [q] else [].
Proof.
  unfold choices. destruct (Nat.ltb i (length mask)) eqn:Hi.
  - apply Nat.ltb_lt in Hi. rewrite app_nth1 by (rewrite map_length; exact Hi).
    rewrite nth_indep with (d' := (fun b : bool => if b then Sv else [m]) false)
      by (rewrite map_length; exact Hi).
    exact (map_nth (fun b : bool => if b then Sv else [m]) mask false i).
  - apply Nat.ltb_ge in Hi. rewrite app_nth2 by (rewrite map_length; exact Hi).
    rewrite map_length. destruct (Nat.eqb i (length mask)) eqn:He.
    + apply Nat.eqb_eq in He. subst. rewrite Nat.sub_diag. reflexivity.
    + apply Nat.eqb_neq in He. destruct (i - length mask)%nat eqn:E; [lia|].
      simpl. destruct n; reflexivity.
Qed.

Record case_shape (t : list nat) (q m : nat) (mask : list bool) (Sv : list nat) : Prop := {
  shape_valid : valid_seq M t;
  shape_max : list_max t = m;
  shape_query : query M t = q;
  shape_mask : mask_of t m = mask;
  shape_S : forall p, (p < n - 1)%nat -> (tok t p < m)%nat -> In (tok t p) Sv
}.

Lemma product_choices_shape (t : list nat) (q m : nat) (mask : list bool) (Sv : list nat) :
  (m < v)%nat -> (q <= m)%nat -> length mask = (n - 1)%nat ->
  (forall k, In k Sv -> (k < m)%nat) -> valid_key q m mask = true ->
  In t (product (choices q m mask Sv)) -> case_shape t q m mask Sv.
Proof.
  intros Hm Hqm Hmask HSv Hkey Ht.
  apply in_product in Ht. apply (Forall2_nth_In _ _ 0%nat) in Ht as [Hlen Hnth].
  unfold choices in Hlen. rewrite app_length, map_length in Hlen. simpl in Hlen.
  (* the token at each position *)
  assert (Hpos : forall p, (p < n - 1)%nat ->
            (nth p mask false = true -> In (tok t p) Sv) /\
            (nth p mask false = false -> tok t p = m)).
  { intros p Hp. specialize (Hnth p ltac:(lia)). rewrite nth_choices in Hnth.
    replace (Nat.ltb p (length mask)) with true in Hnth by (symmetry; apply Nat.ltb_lt; lia).
    unfold tok. split; intros Hb; rewrite Hb in Hnth; [exact Hnth|].
    destruct Hnth as [<-|[]]. reflexivity. }
  assert (Hlast : tok t (n - 1) = q).
  { specialize (Hnth (n - 1)%nat ltac:(lia)). rewrite nth_choices in Hnth.
    replace (Nat.ltb (n - 1) (length mask)) with false in Hnth by (symmetry; apply Nat.ltb_ge; lia).
    replace (Nat.eqb (n - 1) (length mask)) with true in Hnth by (symmetry; apply Nat.eqb_eq; lia).
    destruct Hnth as [Hq|[]]. unfold tok. symmetry. exact Hq. }
  assert (Hle : forall p, (p < n)%nat -> (tok t p <= m)%nat).
  { intros p Hp. destruct (Nat.eq_dec p (n - 1)) as [->|Hne]; [rewrite Hlast; exact Hqm|].
    destruct (Hpos p ltac:(lia)) as [H1 H2]. destruct (nth p mask false).
    - pose proof (HSv _ (H1 eq_refl)). lia.
    - rewrite (H2 eq_refl). lia. }
  assert (Hmax : list_max t = m).
  { apply Nat.le_antisymm.
    - apply list_max_le, Forall_forall. intros a Ha.
      apply (In_nth t a 0%nat) in Ha as [p [Hp <-]]. apply Hle. lia.
    - unfold valid_key in Hkey. apply orb_true_iff in Hkey as [Hqm'|Hex].
      + apply Nat.eqb_eq in Hqm'. subst q. rewrite <- Hlast. apply le_list_max, nth_In. lia.
      + apply existsb_exists in Hex as [b [Hb Hnb]]. apply negb_true_iff in Hnb. subst b.
        apply (In_nth mask false false) in Hb as [p [Hp Hpf]].
        destruct (Hpos p ltac:(lia)) as [_ H2]. rewrite <- (H2 Hpf).
        apply le_list_max, nth_In. lia. }
  split.
  - split; [lia|]. apply Forall_forall. intros a Ha.
    apply (In_nth t a 0%nat) in Ha as [p [Hp <-]]. pose proof (Hle p ltac:(lia)). unfold tok in *. lia.
  - exact Hmax.
  - exact Hlast.
  - apply (nth_ext _ _ false false).
    + unfold mask_of. rewrite map_length, seq_length. lia.
    + intros p Hp. unfold mask_of in Hp |- *. rewrite map_length, seq_length in Hp.
      rewrite nth_map_seq by exact Hp. destruct (Hpos p Hp) as [H1 H2].
      destruct (nth p mask false) eqn:Hb.
      * apply Nat.ltb_lt. apply HSv, H1. reflexivity.
      * apply Nat.ltb_ge. rewrite (H2 eq_refl). lia.
  - intros p Hp Hlt. destruct (Hpos p Hp) as [H1 H2]. destruct (nth p mask false) eqn:Hb.
    + apply H1. reflexivity.
    + rewrite (H2 eq_refl) in Hlt. lia.
Qed.

(** ** The witness list: duplicate-free, correct, and as long as the count *)

Lemma S_for_lt (tq : list I.type) (G : imatrix) (q m : nat) (mk : list bool) (k : nat) :
  In k (S_for tq G q m mk) -> (k < m)%nat.
Proof.
  unfold Cubic.S_for. destruct (Nat.lt_ge_cases (count_true mk) n) as [Hc|Hc].
  - rewrite nth_map_seq by exact Hc. unfold Cubic.choose_S. destruct (count_true mk); [intros []|].
    destruct (map _ (masks_with _)); [intros []|].
    intros Hk. apply filter_In in Hk as [Hk _]. apply in_seq in Hk. lia.
  - rewrite nth_overflow by (rewrite map_length, seq_length; exact Hc). intros [].
Qed.

Lemma S_for_NoDup (tq : list I.type) (G : imatrix) (q m : nat) (mk : list bool) :
  NoDup (S_for tq G q m mk).
Proof.
  unfold Cubic.S_for. destruct (Nat.lt_ge_cases (count_true mk) n) as [Hc|Hc].
  - rewrite nth_map_seq by exact Hc. unfold Cubic.choose_S. destruct (count_true mk); [constructor|].
    destruct (map _ (masks_with _)); [constructor|].
    apply NoDup_filter, seq_NoDup.
  - rewrite nth_overflow by (rewrite map_length, seq_length; exact Hc). constructor.
Qed.

Lemma all_masks_length (k : nat) (mk : list bool) : In mk (all_masks k) -> length mk = k.
Proof.
  unfold all_masks. intros H. apply in_product in H.
  apply (Forall2_nth_In _ _ false) in H as [H _]. rewrite repeat_length in H. exact H.
Qed.

Lemma all_masks_complete (mk : list bool) : In mk (all_masks (length mk)).
Proof.
  unfold all_masks. apply in_product. induction mk as [|b mk IH]; simpl; constructor.
  - destruct b; simpl; tauto.
  - exact IH.
Qed.

Lemma all_masks_NoDup (k : nat) : NoDup (all_masks k).
Proof.
  unfold all_masks. apply NoDup_product. apply Forall_forall. intros c Hc.
  apply repeat_spec in Hc. subst c. constructor; [simpl; intros [H|[]]; discriminate|].
  constructor; [simpl; tauto | constructor].
Qed.

Definition key_of (t : list nat) : list bool := mask_of t (list_max t).

Lemma in_witness (t : list nat) :
  In t witness <-> exists m q mk, (m < v)%nat /\ (q <= m)%nat /\ In mk (all_masks (n - 1)) /\
    In t (case_list (nth q tpi []) te (ghat_row te m) q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk)).
Proof.
  unfold witness. split.
  - intros H. apply in_flat_map in H as [m [Hm H]]. apply in_flat_map in H as [q [Hq H]].
    apply in_flat_map in H as [mk [Hmk H]]. apply in_seq in Hm, Hq.
    exists m, q, mk. repeat split; try lia; assumption.
  - intros [m [q [mk [Hm [Hq [Hmk H]]]]]]. apply in_flat_map. exists m. split; [apply in_seq; lia|].
    apply in_flat_map. exists q. split; [apply in_seq; lia|].
    apply in_flat_map. exists mk. split; assumption.
Qed.

Lemma case_list_shape (t : list nat) (m q : nat) (mk : list bool) :
  (m < v)%nat -> (q <= m)%nat -> In mk (all_masks (n - 1)) ->
  In t (case_list (nth q tpi []) te (ghat_row te m) q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk)) ->
  case_shape t q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk) /\
  case_ok (nth q tpi []) te (ghat_row te m) q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk) = true.
Proof.
  intros Hm Hq Hmk Ht. unfold Cubic.case_list in Ht.
  destruct (valid_key q m mk) eqn:Hkey; [|destruct Ht].
  destruct (case_ok _ _ _ q m mk _) eqn:Hok; [|destruct Ht]. simpl in Ht.
  split; [|reflexivity].
  apply product_choices_shape; try assumption.
  - apply all_masks_length. exact Hmk.
  - intros k Hk. apply (S_for_lt _ _ _ _ _ _ Hk).
Qed.

Lemma count_true_0 (l : list bool) (p : nat) : count_true l = 0%nat -> nth p l false = false.
Proof.
  revert p. induction l as [|b l IH]; intros p H; [destruct p; reflexivity|].
  destruct b; simpl in H; [lia|]. destruct p; [reflexivity|]. apply IH, H.
Qed.

Theorem witness_correct (t : list nat) : In t witness -> valid_seq M t /\ correct M t.
Proof.
  intros H. apply in_witness in H as [m [q [mk [Hm [Hq [Hmk Ht]]]]]].
  pose proof (case_list_shape t m q mk Hm Hq Hmk Ht) as [Hs Hok].
  destruct Hs as [Hv Hmax Hquery Hmask HS].
  split; [exact Hv|].
  unfold Cubic.case_ok in Hok. destruct (Nat.eqb (count_true mk) 0) eqn:Hc0.
  - destruct (case_test _ _ q m mk [m]) eqn:Htest.
    + apply (case_test_sound t [m] Hv).
      * intros p Hp Hlt. exfalso. rewrite Hmax in Hlt.
        assert (Hb : nth p (mask_of t m) false = true).
        { unfold mask_of. rewrite nth_map_seq by exact Hp. apply Nat.ltb_lt, Hlt. }
        rewrite Hmask, (count_true_0 mk p (proj1 (Nat.eqb_eq _ _) Hc0)) in Hb. discriminate.
      * intros k [<-|[]]. exact Hm.
      * rewrite Hmax, Hquery, Hmask. exact Htest.
    + unfold Cubic.case_list in Ht. destruct (_ && _); [|destruct Ht].
      rewrite forallb_forall in Hok. apply decide_tab_sound; [exact Hv|].
      rewrite Hquery. apply Hok, Ht.
  - apply (case_test_sound t (S_for (nth q tpi []) (ghat_row te m) q m mk) Hv).
    + rewrite Hmax. exact HS.
    + intros k Hk. pose proof (S_for_lt _ _ _ _ _ _ Hk). lia.
    + rewrite Hmax, Hquery, Hmask. exact Hok.
Qed.

Lemma case_list_NoDup (m q : nat) (mk : list bool) :
  NoDup (case_list (nth q tpi []) te (ghat_row te m) q m mk (S_for (nth q tpi []) (ghat_row te m) q m mk)).
Proof.
  unfold Cubic.case_list. destruct (_ && _); [|constructor].
  apply NoDup_product. unfold choices. apply Forall_app. split.
  - apply Forall_forall. intros c Hc. apply in_map_iff in Hc as [b [<- _]].
    destruct b; [apply S_for_NoDup | constructor; [simpl; tauto | constructor]].
  - constructor; [constructor; [simpl; tauto | constructor] | constructor].
Qed.

Theorem witness_NoDup : NoDup witness.
Proof.
  unfold witness. apply (NoDup_flat_map_keyed _ (@list_max)); [apply seq_NoDup| |].
  - intros m Hm. apply in_seq in Hm.
    apply (NoDup_flat_map_keyed _ (query M)); [apply seq_NoDup| |].
    + intros q Hq. apply in_seq in Hq.
      apply (NoDup_flat_map_keyed _ key_of); [apply all_masks_NoDup| |].
      * intros mk _. apply case_list_NoDup.
      * intros mk t Hmk Ht. destruct (case_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
        unfold key_of. rewrite (shape_max _ _ _ _ _ Hs). apply (shape_mask _ _ _ _ _ Hs).
    + intros q t Hq Ht. apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
      destruct (case_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
      apply (shape_query _ _ _ _ _ Hs).
  - intros m t Hm Ht. apply in_seq in Hm. apply in_flat_map in Ht as [q [Hq Ht]].
    apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
    destruct (case_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
    apply (shape_max _ _ _ _ _ Hs).
Qed.

Lemma N2Nat_sum {A} (g : A -> N) (l : list A) :
  N.to_nat (fold_right N.add 0%N (map g l)) = fold_right (fun a acc => N.to_nat (g a) + acc)%nat 0%nat l.
Proof. induction l as [|a l IH]; simpl; [reflexivity|]. rewrite N2Nat.inj_add, IH. reflexivity. Qed.

Lemma sum_ext {A} (f g : A -> nat) (l : list A) :
  (forall a, In a l -> f a = g a) ->
  fold_right (fun a acc => f a + acc)%nat 0%nat l = fold_right (fun a acc => g a + acc)%nat 0%nat l.
Proof.
  induction l as [|a l IH]; intros H; simpl; [reflexivity|].
  rewrite H by (left; reflexivity). rewrite IH by (intros; apply H; right; assumption). reflexivity.
Qed.

Lemma prodN_correct (cs : list (list nat)) : N.to_nat (prodN cs) = prod_lengths cs.
Proof.
  induction cs as [|c cs IH]; simpl; [reflexivity|].
  rewrite N2Nat.inj_mul, Nat2N.id, IH. reflexivity.
Qed.

Theorem witness_length : length witness = N.to_nat cubic_count.
Proof.
  unfold witness, Cubic.cubic_count. cbv zeta. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros m _. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros q _. unfold Cubic.count_mq. cbv zeta. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros mk _. unfold Cubic.case_list, Cubic.case_count, Cubic.S_for.
  destruct (_ && _); [|reflexivity].
  rewrite length_product, prodN_correct. reflexivity.
Qed.

End CubicSound.

(** ** The whole cubic check of a claim [N] and its soundness *)

Theorem cubic_sound (M : model) (N : N) :
  cubic_check M N = true -> certified_accuracy M (N.to_nat N).
Proof.
  intros H. destruct (run_check_inputs M _ N H) as (Hwf & IP & L & Hn & Hdh & HIP & HL & HN).
  split; [exact Hwf|]. unfold at_least_correct. exists (witness M IP L).
  split; [apply witness_NoDup; assumption|]. split.
  - rewrite witness_length by assumption. lia.
  - apply Forall_forall. intros t Ht. apply (witness_correct M IP L Hn Hdh HIP HL t Ht).
Qed.
