(** * Soundness of the refine checker (Refine.v, docs/proofs/refine.md)

    [node_leaf_correct]: every sequence of an unsplit node whose free positions hold values of
    [node_S] is correct (refine.md Theorem 3.3: per competitor x, one bound B(k, x) for every
    free position; the largest of them over the free positions' values is attained by one of
    them, which passed its test).  [walk_sound]: the sequences the walk below a node lists are
    of the node's shape, correct, duplicate-free (children differ at the position they fix) and
    as many as the walk counts.  The theorem's witness list is the union over the root masks of
    Cubic.v's case lists and the walks ([rwitness_NoDup], [rwitness_correct],
    [rwitness_length]); [refine_sound]. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence Cubic CubicSound Refine.
Import ListNotations.
Open Scope R_scope.

(** ** Templates *)

Fixpoint ffi (l : list (option nat)) : nat :=
  match l with [] => 0%nat | None :: _ => 0%nat | Some _ :: r => S (ffi r) end.

Lemma ffi_spec (tmpl : list (option nat)) :
  has_free tmpl = true -> (ffi tmpl < length tmpl)%nat /\ nth (ffi tmpl) tmpl None = None.
Proof.
  unfold has_free. induction tmpl as [|[a|] r IH]; simpl; intros H; [discriminate | |split; [lia|reflexivity]].
  destruct (IH H) as [H1 H2]. split; [lia | exact H2].
Qed.

Lemma fix_first_length (tmpl : list (option nat)) (k : nat) : length (fix_first tmpl k) = length tmpl.
Proof. induction tmpl as [|[a|] r IH]; simpl; [reflexivity | rewrite IH; reflexivity | reflexivity]. Qed.

Lemma nth_fix_first (tmpl : list (option nat)) (k p : nat) : has_free tmpl = true ->
  nth p (fix_first tmpl k) None = if Nat.eqb p (ffi tmpl) then Some k else nth p tmpl None.
Proof.
  unfold has_free. revert p. induction tmpl as [|[a|] r IH]; intros p H; simpl in H |- *; [discriminate| |].
  - destruct p as [|p]; simpl; [reflexivity|]. apply IH, H.
  - destruct p as [|p]; simpl; reflexivity.
Qed.

Lemma allb_spec {A} (f : A -> bool) (l : list A) : allb f l = true -> forall a, In a l -> f a = true.
Proof.
  induction l as [|b l IH]; simpl; [intros _ a []|].
  destruct (f b) eqn:Hb; [|discriminate]. intros H a [<-|Ha]; [exact Hb | apply IH; assumption].
Qed.

(** A largest value of [g] over the indices below [k] satisfying [P], when there is one. *)
Lemma argmax_lt (k : nat) (P : nat -> bool) (g : nat -> R) :
  (exists i, (i < k)%nat /\ P i = true) ->
  exists i0, (i0 < k)%nat /\ P i0 = true /\ forall i, (i < k)%nat -> P i = true -> g i <= g i0.
Proof.
  induction k as [|k IH]; intros [i [Hi HP]]; [lia|].
  destruct (existsb P (seq 0 k)) eqn:E.
  - apply existsb_exists in E as [j [Hj HPj]]. apply in_seq in Hj.
    assert (Hj' : exists i, (i < k)%nat /\ P i = true) by (exists j; split; [lia | exact HPj]).
    destruct (IH Hj') as [i0 [Hi0 [HP0 Hmax]]].
    destruct (P k) eqn:Pk.
    + destruct (Rle_lt_dec (g k) (g i0)) as [Hle|Hlt].
      * exists i0. split; [lia|]. split; [exact HP0|]. intros i' Hi' HPi'.
        destruct (Nat.eq_dec i' k) as [->|Hne]; [exact Hle | apply Hmax; [lia|exact HPi']].
      * exists k. split; [lia|]. split; [exact Pk|]. intros i' Hi' HPi'.
        destruct (Nat.eq_dec i' k) as [->|Hne]; [lra|]. pose proof (Hmax i' ltac:(lia) HPi'). lra.
    + exists i0. split; [lia|]. split; [exact HP0|]. intros i' Hi' HPi'.
      destruct (Nat.eq_dec i' k) as [->|Hne]; [congruence | apply Hmax; [lia|exact HPi']].
  - assert (Hno : forall j, (j < k)%nat -> P j = false).
    { intros j Hj. destruct (P j) eqn:Pj; [|reflexivity]. exfalso.
      assert (existsb P (seq 0 k) = true) by (apply existsb_exists; exists j; split; [apply in_seq; lia | exact Pj]).
      congruence. }
    exists k. split; [lia|]. split.
    + destruct (Nat.eq_dec i k) as [->|Hne]; [exact HP|]. rewrite Hno in HP by lia. discriminate.
    + intros i' Hi' HPi'. destruct (Nat.eq_dec i' k) as [->|Hne]; [lra|]. rewrite Hno in HPi' by lia. discriminate.
Qed.

Section RefineSound.
Variable M : model.
Variable IP : ipaths.
Variable L : zlogits.

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).
Local Notation TE := (te M IP).
Local Notation TPI := (tpi M IP).

Hypothesis Hn : (0 < n)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.
Hypothesis HL : zh_spec M L.

Lemma zpstar_ge (m : nat) (W : list nat) (x p : nat) : In p W -> (dPz L m p x <= zpstar L m W x)%Z.
Proof.
  destruct W as [|p0 r]; [intros []|]. simpl. intros [<-|Hp].
  - clear. induction r as [|a r IH]; simpl; lia.
  - induction r as [|a r IH]; [destruct Hp|]. simpl in Hp |- *. destruct Hp as [<-|Hp]; [lia|].
    specialize (IH Hp). lia.
Qed.

Section Group.
Variables q m : nat.
Hypothesis Hm : (m < v)%nat.
Hypothesis Hqm : (q <= m)%nat.
Variable mk : list bool.
Hypothesis Hmk : length mk = (n - 1)%nat.
Hypothesis Hkey : valid_key q m mk = true.

Local Notation tq := (nth q TPI []).
Local Notation G := (ghat_row M IP TE m).

(** A template of the group's mask [mk]: positions outside the mask hold m, fixed positions
    inside it a value < m. *)
Definition tinv (tmpl : list (option nat)) : Prop :=
  length tmpl = (n - 1)%nat /\
  forall p, (p < n - 1)%nat ->
    (nth p mk false = false -> nth p tmpl None = Some m) /\
    (forall a, nth p mk false = true -> nth p tmpl None = Some a -> (a < m)%nat).

Record tshape (t : list nat) (tmpl : list (option nat)) : Prop := {
  ts_valid : valid_seq M t;
  ts_max : list_max t = m;
  ts_query : query M t = q;
  ts_mask : mask_of M t m = mk;
  ts_fixed : forall p a, (p < n - 1)%nat -> nth p tmpl None = Some a -> tok t p = a
}.

Lemma nth_tchoices (tmpl : list (option nat)) (Sv : list nat) (i : nat) :
  (i < length tmpl)%nat ->
  nth i (tchoices q tmpl Sv) [] = match nth i tmpl None with Some a => [a] | None => Sv end.
Proof.
  intros Hi. unfold tchoices. rewrite app_nth1 by (rewrite map_length; exact Hi).
  pose proof (map_nth (fun o : option nat => match o with Some a => [a] | None => Sv end) tmpl None i) as H.
  cbv beta iota in H. rewrite <- H. apply nth_indep. rewrite map_length. exact Hi.
Qed.

Lemma nth_tchoices_last (tmpl : list (option nat)) (Sv : list nat) :
  nth (length tmpl) (tchoices q tmpl Sv) [] = [q].
Proof.
  unfold tchoices. rewrite app_nth2 by (rewrite map_length; lia).
  rewrite map_length, Nat.sub_diag. reflexivity.
Qed.

Lemma tchoices_length (tmpl : list (option nat)) (Sv : list nat) :
  length (tchoices q tmpl Sv) = S (length tmpl).
Proof. unfold tchoices. rewrite app_length, map_length. simpl. lia. Qed.

Lemma tchoices_shape (tmpl : list (option nat)) (Sv : list nat) (t : list nat) :
  tinv tmpl -> (forall k, In k Sv -> (k < m)%nat) ->
  In t (product (tchoices q tmpl Sv)) ->
  tshape t tmpl /\ (forall p, (p < n - 1)%nat -> nth p tmpl None = None -> In (tok t p) Sv).
Proof.
  intros [Hlen Hinv] HSv Ht.
  apply in_product in Ht. apply (Forall2_nth_In M Hn Hdh _ _ 0%nat) in Ht as [Hlt Hnth].
  rewrite tchoices_length in Hlt.
  assert (Hpos : forall p, (p < n - 1)%nat ->
            match nth p tmpl None with Some a => tok t p = a | None => In (tok t p) Sv end).
  { intros p Hp. specialize (Hnth p ltac:(lia)). rewrite nth_tchoices in Hnth by lia.
    unfold tok. destruct (nth p tmpl None) as [a|]; [destruct Hnth as [<-|[]]; reflexivity | exact Hnth]. }
  assert (Hlast : tok t (n - 1) = q).
  { specialize (Hnth (n - 1)%nat ltac:(lia)). rewrite <- Hlen in Hnth.
    rewrite nth_tchoices_last in Hnth. destruct Hnth as [Hq|[]]. unfold tok. rewrite <- Hlen.
    symmetry. exact Hq. }
  assert (Hmask : forall p, (p < n - 1)%nat ->
            (nth p mk false = true -> (tok t p < m)%nat) /\ (nth p mk false = false -> tok t p = m)).
  { intros p Hp. pose proof (Hpos p Hp) as H. destruct (Hinv p Hp) as [H1 H2]. split; intros Hb.
    - revert H. destruct (nth p tmpl None) as [a|] eqn:E; intros H; [rewrite H; exact (H2 a Hb eq_refl) | exact (HSv _ H)].
    - rewrite (H1 Hb) in H. exact H. }
  assert (Hle : forall p, (p < n)%nat -> (tok t p <= m)%nat).
  { intros p Hp. destruct (Nat.eq_dec p (n - 1)) as [->|Hne]; [rewrite Hlast; exact Hqm|].
    destruct (Hmask p ltac:(lia)) as [H1 H2].
    destruct (nth p mk false); [pose proof (H1 eq_refl); lia | rewrite (H2 eq_refl); lia]. }
  assert (Hmax : list_max t = m).
  { apply Nat.le_antisymm.
    - apply list_max_le, Forall_forall. intros a Ha.
      apply (In_nth t a 0%nat) in Ha as [p [Hp <-]]. apply Hle. lia.
    - unfold valid_key in Hkey. apply orb_true_iff in Hkey as [Hqm'|Hex].
      + apply Nat.eqb_eq in Hqm'. subst q. rewrite <- Hlast. apply le_list_max, nth_In. lia.
      + apply existsb_exists in Hex as [b [Hb Hnb]]. apply negb_true_iff in Hnb. subst b.
        apply (In_nth mk false false) in Hb as [p [Hp Hpf]].
        destruct (Hmask p ltac:(lia)) as [_ H2]. rewrite <- (H2 Hpf).
        apply le_list_max, nth_In. lia. }
  split; [split|].
  - split; [lia|]. apply Forall_forall. intros a Ha.
    apply (In_nth t a 0%nat) in Ha as [p [Hp <-]]. pose proof (Hle p ltac:(lia)). unfold tok in *. lia.
  - exact Hmax.
  - exact Hlast.
  - apply (nth_ext _ _ false false).
    + unfold mask_of. rewrite map_length, seq_length. lia.
    + intros p Hp. unfold mask_of in Hp |- *. rewrite map_length, seq_length in Hp.
      rewrite nth_map_seq by exact Hp. destruct (Hmask p Hp) as [H1 H2].
      destruct (nth p mk false) eqn:Hb.
      * apply Nat.ltb_lt, H1. reflexivity.
      * apply Nat.ltb_ge. rewrite (H2 eq_refl). lia.
  - intros p a Hp Ha. pose proof (Hpos p Hp) as H. rewrite Ha in H. exact H.
  - intros p Hp Ha. pose proof (Hpos p Hp) as H. rewrite Ha in H. exact H.
Qed.

Lemma tseq_in (tmpl : list (option nat)) (Sv : list nat) :
  has_free tmpl = false -> In (tseq q tmpl) (product (tchoices q tmpl Sv)).
Proof.
  unfold has_free, tseq, tchoices. intros H. apply in_product. apply Forall2_app.
  - induction tmpl as [|[a|] r IH]; simpl in H |- *; [constructor | |discriminate].
    constructor; [left; reflexivity | apply IH, H].
  - constructor; [left; reflexivity | constructor].
Qed.

Lemma node_S_spec (tmpl : list (option nat)) (k : nat) :
  In k (node_S M L tq TE G q m tmpl) -> (k < m)%nat /\
  (tier1 G q (fs M tq G q tmpl) (yw M tq q tmpl) k = true \/
   tier1 G q (ijoin (fun x => nth x (map (fx M L tq TE q m tmpl) (seq 0 v)) I.nai) (others M m))
     (yw M tq q tmpl) k = true \/
   tier2 M L TE q m (map (fx M L tq TE q m tmpl) (seq 0 v))
     (map (zpstar L m (free_pos M tmpl)) (seq 0 v)) (yw M tq q tmpl) k = true).
Proof.
  unfold node_S. cbv zeta. destruct (forallb _ (seq 0 m)) eqn:E.
  - intros Hk. pose proof Hk as Hk'. apply in_seq in Hk'. split; [lia|]. left.
    rewrite forallb_forall in E. apply E, Hk.
  - intros Hk. apply filter_In in Hk as [Hk Hg]. apply in_seq in Hk. split; [lia|].
    destruct (tier1 G q (fs M tq G q tmpl) _ k); [left; reflexivity|].
    destruct (tier1 G q (ijoin _ _) _ k); [right; left; reflexivity | right; right; exact Hg].
Qed.

Lemma node_S_NoDup (tmpl : list (option nat)) : NoDup (node_S M L tq TE G q m tmpl).
Proof.
  unfold node_S. cbv zeta. destruct (forallb _ (seq 0 m)); [apply seq_NoDup | apply NoDup_filter, seq_NoDup].
Qed.

(** refine.md Theorem 3.3: the node test. *)
Theorem node_leaf_correct (tmpl : list (option nat)) (t : list nat) :
  tinv tmpl -> has_free tmpl = true -> tshape t tmpl ->
  (forall p, (p < n - 1)%nat -> nth p tmpl None = None -> In (tok t p) (node_S M L tq TE G q m tmpl)) ->
  correct M t.
Proof.
  intros [Hlen Hinv] Hfree Hs HS x Hx Hxm.
  destruct Hs as [Hv Hmax Hquery Hmask Hfix].
  rewrite Hmax in Hxm |- *.
  apply (wins_iff_unnormalised_neg M t m x Hn).
  assert (Hsl_lt : forall p, (p < n - 1)%nat -> slot q tmpl p = nth p tmpl None).
  { intros p Hp. unfold slot. apply app_nth1. lia. }
  assert (Hsl_last : slot q tmpl (n - 1) = Some q).
  { unfold slot. rewrite app_nth2 by lia. rewrite Hlen, Nat.sub_diag. reflexivity. }
  assert (Hsl : forall p a, (p < n)%nat -> slot q tmpl p = Some a -> tok t p = a).
  { intros p a Hp Ha. destruct (Nat.eq_dec p (n - 1)) as [->|Hne].
    - rewrite Hsl_last in Ha. injection Ha as <-. exact Hquery.
    - apply Hfix; [lia|]. rewrite <- Hsl_lt by lia. exact Ha. }
  assert (Hsl_free : forall p, (p < n)%nat -> slot q tmpl p = None -> (p < n - 1)%nat /\ nth p tmpl None = None).
  { intros p Hp Ha. destruct (Nat.eq_dec p (n - 1)) as [->|Hne]; [rewrite Hsl_last in Ha; discriminate|].
    split; [lia|]. rewrite <- Hsl_lt by lia. exact Ha. }
  assert (Htok : forall p, (p < n)%nat -> (tok t p <= m)%nat).
  { intros p Hp. rewrite <- Hmax. eapply tok_le_max; eassumption. }
  pose (E := fun p => exp (score M t p) * h M t m x p).
  pose (Fr := rsum n (fun p => match slot q tmpl p with Some _ => E p | None => 0 end)).
  pose (Fw := rsum n (fun p => match slot q tmpl p with Some _ => 0 | None => E p end)).
  pose (Y := rsum n (fun p => match slot q tmpl p with Some _ => 0 | None => pi_real M q p end)).
  assert (Hsplit : unnormalised M t m x = Fr + Fw).
  { unfold unnormalised, Fr, Fw. rewrite <- rsum_plus. apply rsum_ext. intros p _.
    unfold E. destruct (slot q tmpl p); ring. }
  assert (HY : encl (yw M tq q tmpl) Y).
  { unfold yw, Y. apply encl_isum. intros p Hp. cbv beta.
    destruct (slot q tmpl p); [apply encl_zero|]. apply (tpi_spec M IP Hdh HIP); lia. }
  assert (HE_fixed : forall p a, (p < n)%nat -> slot q tmpl p = Some a ->
            E p = e_real M q a * pi_real M q p * (IZR (zh L q a m x p) * powerRZ 2 (lexp L))).
  { intros p a Hp Ha. unfold E. pose proof (Hsl p a Hp Ha) as Ht.
    rewrite exp_score, <- (HL t m x p Hv Hm Hx Hp), Hquery, Ht. reflexivity. }
  assert (HFx : encl (fx M L tq TE q m tmpl x) Fr).
  { unfold fx, Fr. apply encl_isum. intros p Hp. cbv beta.
    destruct (slot q tmpl p) as [a|] eqn:Ha; [|apply encl_zero].
    rewrite (HE_fixed p a Hp Ha). unfold fterm. apply encl_mul; [apply encl_mul|apply encl_iround].
    - pose proof (Htok p Hp) as Hle. rewrite (Hsl p a Hp Ha) in Hle.
      apply (te_spec M IP Hdh HIP); lia.
    - apply (tpi_spec M IP Hdh HIP); lia. }
  assert (HFs : encl (fs M tq G q tmpl) Fr).
  { unfold fs, Fr. apply encl_isum. intros p Hp. cbv beta.
    destruct (slot q tmpl p) as [a|] eqn:Ha; [|apply encl_zero].
    pose proof (Hsl p a Hp Ha) as Ht. pose proof (Htok p Hp) as Ha'. rewrite Ht in Ha'.
    replace (E p) with (pi_real M q p * (((EUPU M q x - EUPU M q m) +
      ((EVOU M a x - EVOU M a m) + (PVOU M p x - PVOU M p m))) * e_real M q a)).
    2: { unfold E, h. rewrite exp_score, Hquery, Ht. ring. }
    apply encl_mul; [apply (tpi_spec M IP Hdh HIP); lia|].
    apply (ghat_spec M IP Hn Hdh HIP); assumption || lia. }
  pose (FJ := ijoin (fun x => nth x (map (fx M L tq TE q m tmpl) (seq 0 v)) I.nai) (others M m)).
  assert (HFJ : encl FJ Fr).
  { apply (encl_ijoin _ _ x); [apply in_others; assumption|].
    rewrite (nth_map_seq (fx M L tq TE q m tmpl) v x I.nai Hx). exact HFx. }
  pose (T1 := fun k => tier1 G q (fs M tq G q tmpl) (yw M tq q tmpl) k || tier1 G q FJ (yw M tq q tmpl) k).
  pose (B := fun k => if T1 k then top_real (iget G q k)
                      else top_real (gw L TE q m (nth x (map (zpstar L m (free_pos M tmpl)) (seq 0 v)) 0%Z) k x)).
  assert (Hx_in : In x (seq 0 v)) by (apply in_seq; lia).
  assert (HB : forall p, (p < n)%nat -> slot q tmpl p = None -> E p <= pi_real M q p * B (tok t p)).
  { intros p Hp Hfp. destruct (Hsl_free p Hp Hfp) as [Hp' Hnone].
    pose proof (HS p Hp' Hnone) as HSk. apply node_S_spec in HSk as [Hkm Htier].
    unfold E. rewrite exp_score, Hquery.
    replace (e_real M q (tok t p) * pi_real M q p * h M t m x p)
      with (pi_real M q p * (h M t m x p * e_real M q (tok t p))) by ring.
    apply Rmult_le_compat_l; [left; apply exp_pos|].
    unfold B. destruct (T1 (tok t p)) eqn:HT1.
    - assert (Htop : has_top (iget G q (tok t p)) = true).
      { unfold T1, tier1 in HT1. apply orb_true_iff in HT1 as [H|H]; apply andb_prop in H as [H _]; exact H. }
      apply le_top; [exact Htop|].
      replace (h M t m x p * e_real M q (tok t p)) with (((EUPU M q x - EUPU M q m) +
        ((EVOU M (tok t p) x - EVOU M (tok t p) m) + (PVOU M p x - PVOU M p m))) * e_real M q (tok t p))
        by (unfold h; rewrite Hquery; ring).
      apply (ghat_spec M IP Hn Hdh HIP); assumption || lia.
    - unfold T1 in HT1. apply orb_false_iff in HT1 as [HT1 HT1']. unfold FJ in HT1'.
      destruct Htier as [Ht1|[Ht1|Ht2]]; [congruence|congruence|].
      pose proof (allb_spec _ _ Ht2 x Hx_in) as Hx2. cbv beta in Hx2.
      replace (Nat.eqb x m) with false in Hx2 by (symmetry; apply Nat.eqb_neq; exact Hxm).
      cbv zeta in Hx2.
      match type of Hx2 with context [has_top ?g] => destruct (has_top g) eqn:Htop; [|discriminate] end.
      apply (Rle_trans _ (e_real M q (tok t p) *
        (IZR (zg L q m (nth x (map (zpstar L m (free_pos M tmpl)) (seq 0 v)) 0%Z) (tok t p) x) * powerRZ 2 (lexp L)))).
      + rewrite Rmult_comm. apply Rmult_le_compat_l; [left; apply exp_pos|].
        rewrite <- (HL t m x p Hv Hm Hx Hp), Hquery. apply Rmult_le_compat_r; [left; apply powerRZ_lt; lra|].
        apply IZR_le. rewrite nth_map_seq by exact Hx.
        assert (Hin : In p (free_pos M tmpl)).
        { unfold free_pos. apply filter_In. split; [apply in_seq; lia | rewrite Hnone; reflexivity]. }
        pose proof (zpstar_ge m (free_pos M tmpl) x p Hin) as Hge. unfold dPz in Hge. unfold zh, zg. lia.
      + apply le_top; [exact Htop|].
        unfold gw. apply encl_mul; [apply (te_spec M IP Hdh HIP); lia | apply encl_iround]. }
  destruct (ffi_spec tmpl Hfree) as [Hffi Hffn].
  destruct (argmax_lt n (fun p => is_free (slot q tmpl p)) (fun p => B (tok t p))) as [p0 [Hp0 [Hfp0 Hmax0]]].
  { exists (ffi tmpl). split; [lia|]. rewrite Hsl_lt by lia. rewrite Hffn. reflexivity. }
  assert (Hfp0' : slot q tmpl p0 = None) by (destruct (slot q tmpl p0); [discriminate|reflexivity]).
  assert (HFw : Fw <= Y * B (tok t p0)).
  { unfold Fw, Y. rewrite <- rsum_scal_r. apply rsum_le. intros p Hp. cbv beta.
    destruct (slot q tmpl p) eqn:Hsp; [lra|].
    apply (Rle_trans _ (pi_real M q p * B (tok t p))); [apply HB; assumption|].
    apply Rmult_le_compat_l; [left; apply exp_pos|]. apply Hmax0; [exact Hp | rewrite Hsp; reflexivity]. }
  assert (Hneg : Fr + Y * B (tok t p0) < 0).
  { destruct (Hsl_free p0 Hp0 Hfp0') as [Hp0' Hnone0].
    pose proof (HS p0 Hp0' Hnone0) as HSk. apply node_S_spec in HSk as [Hkm Htier].
    unfold B. destruct (T1 (tok t p0)) eqn:HT1.
    - unfold T1 in HT1. apply orb_true_iff in HT1 as [H|H]; unfold tier1 in H; apply andb_prop in H as [Htop Hng].
      + exact (encl_is_negative _ _ (encl_add _ _ _ _ HFs (encl_mul _ _ _ _ HY (encl_top _ Htop))) Hng).
      + exact (encl_is_negative _ _ (encl_add _ _ _ _ HFJ (encl_mul _ _ _ _ HY (encl_top _ Htop))) Hng).
    - unfold T1 in HT1. apply orb_false_iff in HT1 as [HT1 HT1']. unfold FJ in HT1'.
      destruct Htier as [Ht1|[Ht1|Ht2]]; [congruence|congruence|].
      pose proof (allb_spec _ _ Ht2 x Hx_in) as Hx2. cbv beta in Hx2.
      replace (Nat.eqb x m) with false in Hx2 by (symmetry; apply Nat.eqb_neq; exact Hxm).
      cbv zeta in Hx2.
      match type of Hx2 with context [has_top ?g] => destruct (has_top g) eqn:Htop; [|discriminate] end.
      rewrite (nth_map_seq (fx M L tq TE q m tmpl) v x I.nai Hx) in Hx2.
      exact (encl_is_negative _ _ (encl_add _ _ _ _ HFx (encl_mul _ _ _ _ HY (encl_top _ Htop))) Hx2). }
  rewrite Hsplit. lra.
Qed.

(** ** The leaves and the walk *)

Lemma decided_sound (tmpl : list (option nat)) : tinv tmpl -> has_free tmpl = false ->
  (forall t, In t (decided_list M L tq TE q tmpl) -> tshape t tmpl /\ correct M t) /\
  NoDup (decided_list M L tq TE q tmpl) /\
  length (decided_list M L tq TE q tmpl) = N.to_nat (decided_count M L tq TE q tmpl).
Proof.
  intros Hinv Hnf. unfold decided_list, decided_count.
  destruct (decide_tab M L tq TE (tseq q tmpl)) eqn:Hd.
  - split; [|split; [constructor; [simpl; tauto | constructor] | reflexivity]].
    intros t [<-|[]].
    assert (Hnil : forall k, In k [] -> (k < m)%nat) by (intros k []).
    destruct (tchoices_shape tmpl [] (tseq q tmpl) Hinv Hnil (tseq_in tmpl [] Hnf)) as [Hs _].
    split; [exact Hs|].
    apply (decide_tab_sound M IP L Hn Hdh HIP HL); [exact (ts_valid _ _ Hs)|].
    rewrite (ts_query _ _ Hs). exact Hd.
  - split; [intros t []|]. split; [constructor | reflexivity].
Qed.

Lemma leaf_sound (tmpl : list (option nat)) : tinv tmpl ->
  (forall t, In t (leaf_list M L tq TE G q m tmpl) -> tshape t tmpl /\ correct M t) /\
  NoDup (leaf_list M L tq TE G q m tmpl) /\
  length (leaf_list M L tq TE G q m tmpl) = N.to_nat (leaf_count M L tq TE G q m tmpl).
Proof.
  intros Hinv. unfold leaf_list, leaf_count. destruct (has_free tmpl) eqn:Hf; [|apply decided_sound; assumption].
  split; [|split].
  - intros t Ht.
    assert (HSv : forall k, In k (node_S M L tq TE G q m tmpl) -> (k < m)%nat)
      by (intros k Hk; apply (node_S_spec tmpl k Hk)).
    destruct (tchoices_shape tmpl _ t Hinv HSv Ht) as [Hs HS].
    split; [exact Hs|]. apply (node_leaf_correct tmpl t Hinv Hf Hs HS).
  - apply NoDup_product. unfold tchoices. apply Forall_app. split.
    + apply Forall_forall. intros c Hc. apply in_map_iff in Hc as [o [<- _]].
      destruct o; [constructor; [simpl; tauto | constructor] | apply node_S_NoDup].
    + constructor; [constructor; [simpl; tauto | constructor] | constructor].
  - rewrite length_product, prodN_correct. reflexivity.
Qed.

Lemma walk_sound (fuel : nat) : forall tmpl pt, tinv tmpl ->
  (forall t, In t (walk_list M L tq TE G q m fuel tmpl pt) -> tshape t tmpl /\ correct M t) /\
  NoDup (walk_list M L tq TE G q m fuel tmpl pt) /\
  length (walk_list M L tq TE G q m fuel tmpl pt) = N.to_nat (walk_count M L tq TE G q m fuel tmpl pt).
Proof.
  induction fuel as [|f IH]; intros tmpl pt Hinv; destruct pt as [tr|]; simpl;
    try (apply leaf_sound; exact Hinv).
  - destruct (has_free tmpl) eqn:Hf; [|apply decided_sound; assumption].
    split; [intros t []|]. split; [constructor | reflexivity].
  - destruct (has_free tmpl) eqn:Hf; [|apply decided_sound; assumption].
    destruct (ffi_spec tmpl Hf) as [Hffi Hffn].
    assert (Hch : forall k, In k (seq 0 m) -> tinv (fix_first tmpl k)).
    { intros k Hk. apply in_seq in Hk. destruct Hinv as [Hlen Hinv].
      split; [rewrite fix_first_length; exact Hlen|]. intros p Hp. rewrite nth_fix_first by exact Hf.
      destruct (Nat.eqb p (ffi tmpl)) eqn:E; [|exact (Hinv p Hp)].
      apply Nat.eqb_eq in E. subst p. destruct (Hinv _ Hp) as [H1 _]. split.
      - intros Hb. rewrite (H1 Hb) in Hffn. discriminate.
      - intros a _ Ha. injection Ha as <-. lia. }
    assert (Hlen : length tmpl = (n - 1)%nat) by apply Hinv.
    split; [|split].
    + intros t Ht. apply in_flat_map in Ht as [k [Hk Ht]].
      destruct (IH _ (pchild k tr) (Hch k Hk)) as [H _]. destruct (H t Ht) as [Hs Hc]. split; [|exact Hc].
      destruct Hs as [Hv Hmx Hq Hmk' Hfx]. constructor; try assumption.
      intros p a Hp Ha. apply Hfx; [exact Hp|]. rewrite nth_fix_first by exact Hf.
      destruct (Nat.eqb p (ffi tmpl)) eqn:E; [|exact Ha].
      apply Nat.eqb_eq in E. subst p. rewrite Hffn in Ha. discriminate.
    + apply (NoDup_flat_map_keyed _ (fun t => tok t (ffi tmpl))); [apply seq_NoDup | |].
      * intros k Hk. apply (IH _ (pchild k tr) (Hch k Hk)).
      * intros k t Hk Ht. destruct (IH _ (pchild k tr) (Hch k Hk)) as [H _]. destruct (H t Ht) as [Hs _].
        apply (ts_fixed _ _ Hs); [lia|]. rewrite nth_fix_first, Nat.eqb_refl by exact Hf. reflexivity.
    + rewrite length_flat_map, N2Nat_sum. apply sum_ext. intros k Hk. apply (IH _ (pchild k tr) (Hch k Hk)).
Qed.

Lemma tinv0 : tinv (tmpl0 m mk).
Proof.
  split; [unfold tmpl0; rewrite map_length; exact Hmk|]. intros p Hp.
  assert (H : nth p (tmpl0 m mk) None = if nth p mk false then None else Some m).
  { unfold tmpl0. pose proof (map_nth (fun b : bool => if b then None else Some m) mk false p) as H.
    cbv beta iota in H. rewrite <- H. apply nth_indep. rewrite map_length. lia. }
  rewrite H. split; [intros Hb; rewrite Hb; reflexivity|]. intros a Hb. rewrite Hb. discriminate.
Qed.

End Group.

(** ** The witness list: duplicate-free, correct, and as long as the count *)

Definition rwitness (P : plan) : list (list nat) :=
  flat_map (fun m =>
    flat_map (fun q =>
      flat_map (fun mk =>
        mask_list M L (nth q TPI []) TE (ghat_row M IP TE m) q m (find_group P q m) mk
          (S_for M (nth q TPI []) (ghat_row M IP TE m) q m mk))
      (all_masks (n - 1)))
    (seq 0 (S m)))
  (seq 0 v).

Lemma mask_list_sound (P : plan) (m q : nat) (mk : list bool) :
  (m < v)%nat -> (q <= m)%nat -> In mk (all_masks (n - 1)) ->
  (forall t, In t (mask_list M L (nth q TPI []) TE (ghat_row M IP TE m) q m (find_group P q m) mk
                     (S_for M (nth q TPI []) (ghat_row M IP TE m) q m mk)) ->
     list_max t = m /\ query M t = q /\ mask_of M t m = mk /\ valid_seq M t /\ correct M t) /\
  NoDup (mask_list M L (nth q TPI []) TE (ghat_row M IP TE m) q m (find_group P q m) mk
           (S_for M (nth q TPI []) (ghat_row M IP TE m) q m mk)).
Proof.
  intros Hm Hq Hmk. pose proof (all_masks_length M Hn Hdh _ _ Hmk) as Hlen.
  unfold mask_list. destruct (valid_key q m mk) eqn:Hkey; [|split; [intros t [] | constructor]].
  destruct (_ || _).
  - split; [|apply case_list_NoDup].
    intros t Ht. destruct (case_list_shape M IP L Hn Hdh t m q mk Hm Hq Hmk Ht) as [Hs _].
    assert (Hw : In t (witness M IP L)).
    { apply (in_witness M IP L Hn Hdh). exists m, q, mk. repeat split; assumption. }
    destruct (witness_correct M IP L Hn Hdh HIP HL t Hw) as [Hv Hc].
    split; [apply (shape_max _ _ _ _ _ _ Hs)|]. split; [apply (shape_query _ _ _ _ _ _ Hs)|].
    split; [apply (shape_mask _ _ _ _ _ _ Hs)|]. split; assumption.
  - destruct (walk_sound q m Hm Hq mk Hlen Hkey n (tmpl0 m mk) (mask_node (find_group P q m) mk)
                (tinv0 q m Hm Hq mk Hlen)) as [H [Hnd _]].
    split; [|exact Hnd]. intros t Ht. destruct (H t Ht) as [Hs Hc].
    split; [apply (ts_max _ _ _ _ _ Hs)|]. split; [apply (ts_query _ _ _ _ _ Hs)|].
    split; [apply (ts_mask _ _ _ _ _ Hs)|]. split; [apply (ts_valid _ _ _ _ _ Hs) | exact Hc].
Qed.

Theorem rwitness_correct (P : plan) (t : list nat) : In t (rwitness P) -> valid_seq M t /\ correct M t.
Proof.
  unfold rwitness. intros H. apply in_flat_map in H as [m [Hm H]]. apply in_flat_map in H as [q [Hq H]].
  apply in_flat_map in H as [mk [Hmk H]]. apply in_seq in Hm, Hq.
  destruct (mask_list_sound P m q mk ltac:(lia) ltac:(lia) Hmk) as [Hs _].
  destruct (Hs t H) as (_ & _ & _ & Hv & Hc). split; assumption.
Qed.

Theorem rwitness_NoDup (P : plan) : NoDup (rwitness P).
Proof.
  unfold rwitness. apply (NoDup_flat_map_keyed _ (@list_max)); [apply seq_NoDup| |].
  - intros m Hm. apply in_seq in Hm.
    apply (NoDup_flat_map_keyed _ (query M)); [apply seq_NoDup| |].
    + intros q Hq. apply in_seq in Hq.
      apply (NoDup_flat_map_keyed _ (key_of M)); [apply all_masks_NoDup| |].
      * intros mk Hmk. apply (mask_list_sound P m q mk ltac:(lia) ltac:(lia) Hmk).
      * intros mk t Hmk Ht. destruct (mask_list_sound P m q mk ltac:(lia) ltac:(lia) Hmk) as [Hs _].
        destruct (Hs t Ht) as (Hmx & _ & Hmask & _). unfold key_of. rewrite Hmx. exact Hmask.
    + intros q t Hq Ht. apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
      destruct (mask_list_sound P m q mk ltac:(lia) ltac:(lia) Hmk) as [Hs _].
      apply (Hs t Ht).
  - intros m t Hm Ht. apply in_seq in Hm. apply in_flat_map in Ht as [q [Hq Ht]].
    apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
    destruct (mask_list_sound P m q mk ltac:(lia) ltac:(lia) Hmk) as [Hs _].
    apply (Hs t Ht).
Qed.

Theorem rwitness_length (P : plan) : length (rwitness P) = N.to_nat (refine_count M IP L P).
Proof.
  unfold rwitness, refine_count. cbv zeta. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros m Hm. apply in_seq in Hm. rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros q Hq. apply in_seq in Hq. unfold refine_count_mq. cbv zeta.
  rewrite N2Nat_sum, length_flat_map.
  apply sum_ext. intros mk Hmk. pose proof (all_masks_length M Hn Hdh _ _ Hmk) as Hlen.
  unfold mask_list, mask_count, S_for.
  destruct (valid_key q m mk) eqn:Hkey; [|reflexivity].
  destruct (_ || _).
  - unfold case_list, case_count. destruct (_ && _); [|reflexivity].
    rewrite length_product, prodN_correct. reflexivity.
  - assert (Hm' : (m < v)%nat) by lia. assert (Hq' : (q <= m)%nat) by lia.
    apply (walk_sound q m Hm' Hq' mk Hlen Hkey n (tmpl0 m mk) _ (tinv0 q m Hm' Hq' mk Hlen)).
Qed.

End RefineSound.

(** ** The whole refine check of a claim [N] and its soundness *)

Theorem refine_sound (M : model) (P : plan) (N : N) :
  refine_check M P N = true -> certified_accuracy M (N.to_nat N).
Proof.
  intros H. destruct (run_check_inputs M _ N H) as (Hwf & IP & L & Hn & Hdh & HIP & HL & HN).
  split; [exact Hwf|]. unfold at_least_correct. exists (rwitness M IP L P).
  split; [apply rwitness_NoDup; assumption|]. split.
  - rewrite rwitness_length by assumption. lia.
  - apply Forall_forall. intros t Ht. apply (rwitness_correct M IP L Hn Hdh HIP HL P t Ht).
Qed.
