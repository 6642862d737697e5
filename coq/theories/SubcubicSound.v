(** * Soundness of the subcubic checker (Subcubic.v, docs/proofs/subcubic.md)

    - [mix_neg] (sections 2-3): if the attention on the max copies, A = PM / (PM + Y), lies in
      [a_lo, a_hi], a bound linear in A that is negative at both ends is negative at A;
    - [endpoint_real] (section 3, the mean+diff correction, both signs);
    - [centred_bound], [direct_spec] (section 5, every direct-path mode);
    - [sc_case_sound]: a certified case's test proves every sequence of the case correct;
    - the witness list is the duplicate-free union of the certified cases' products, as long
      as the count ([sc_witness_NoDup], [sc_witness_correct], [sc_witness_length]);
    - [subcubic_sound]. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence Cubic CubicSound SubcubicError Subcubic.
Import ListNotations.
Open Scope R_scope.

(** ** Real-number lemmas *)

(** Sections 2-3: with A = PM / (PM + Y) in [alo, ahi], the bound B + a E + (1 - a) W is linear
    in a, so negative at both ends means negative at A; multiplied by PM + Y > 0 it is the
    unnormalised bound PM (B + E) + Y (B + W). *)
Lemma mix_neg (PM Y B E Wr alo ahi : R) :
  0 < PM -> 0 <= Y -> alo <= PM / (PM + Y) -> PM / (PM + Y) <= ahi ->
  B + alo * E + (1 - alo) * Wr < 0 -> B + ahi * E + (1 - ahi) * Wr < 0 ->
  PM * (B + E) + Y * (B + Wr) < 0.
Proof.
  intros HPM HY Hlo Hhi Nlo Nhi.
  set (A := PM / (PM + Y)) in *.
  assert (HS : 0 < PM + Y) by lra.
  assert (HA : PM = A * (PM + Y)) by (unfold A; field; lra).
  assert (HgA : B + A * E + (1 - A) * Wr < 0).
  { destruct (Rle_or_lt 0 (E - Wr)) as [Hs|Hs].
    - assert (A * (E - Wr) <= ahi * (E - Wr)) by (apply Rmult_le_compat_r; lra). nra.
    - assert (alo * (E - Wr) >= A * (E - Wr)) by nra. nra. }
  replace (PM * (B + E) + Y * (B + Wr)) with ((PM + Y) * (B + A * E + (1 - A) * Wr))
    by (unfold A; field; lra).
  nra.
Qed.

(** Section 3: the mean+diff correction at one point a, both signs of a - abar.
    f >= l + abar e, R_min <= e <= R_max. *)
Lemma endpoint_real (d f w rmax rmin ab a l e : R) :
  l + ab * e <= f -> rmin <= e <= rmax ->
  d + f + (1 - a) * w + (a - ab) * rmax < 0 -> d + f + (1 - a) * w + (a - ab) * rmin < 0 ->
  (d + l) + a * e + (1 - a) * w < 0.
Proof.
  intros Hf He N1 N2.
  replace ((d + l) + a * e + (1 - a) * w) with (d + (l + ab * e) + (a - ab) * e + (1 - a) * w) by ring.
  destruct (Rle_or_lt 0 (a - ab)) as [Hs|Hs].
  - assert ((a - ab) * e <= (a - ab) * rmax) by (apply Rmult_le_compat_l; lra). lra.
  - assert ((a - ab) * e <= (a - ab) * rmin) by nra. lra.
Qed.

Lemma div_anti (PM Y1 Y2 : R) : 0 < PM -> 0 < PM + Y1 -> Y1 <= Y2 -> PM / (PM + Y2) <= PM / (PM + Y1).
Proof.
  intros HP H1 H12. unfold Rdiv. apply Rmult_le_compat_l; [lra|].
  apply Rinv_le_contravar; lra.
Qed.



Lemma rsum_pos_one (k j : nat) (f : nat -> R) :
  (forall i, (i < k)%nat -> 0 <= f i) -> (j < k)%nat -> 0 < f j -> 0 < rsum k f.
Proof.
  induction k as [|k IH]; intros H Hj Hf; [lia|]. simpl.
  destruct (Nat.eq_dec j k) as [->|Hne].
  - assert (0 <= rsum k f) by (apply rsum_nonneg; intros; apply H; lia). lra.
  - assert (0 < rsum k f) by (apply IH; [intros; apply H; lia | lia | exact Hf]).
    assert (0 <= f k) by (apply H; lia). lra.
Qed.

(** Section 3's interval test at one end, read as two real inequalities. *)
Lemma endpoint_ok_spec (D F Wt Eh ab a : I.type) (abr ar : R) :
  has_top D = true -> has_top F = true -> has_top Wt = true -> has_top Eh = true -> has_bot Eh = true ->
  encl ab abr -> encl a ar -> endpoint_ok D F Wt Eh ab a = true ->
  top_real D + top_real F + (1 - ar) * top_real Wt + (ar - abr) * top_real Eh < 0 /\
  top_real D + top_real F + (1 - ar) * top_real Wt + (ar - abr) * bot_real Eh < 0.
Proof.
  intros HD HF HW HEt HEb Hab Ha H. unfold endpoint_ok in H. apply andb_prop in H as [H1 H2].
  assert (Hone : encl one 1) by exact (encl_Z 1).
  assert (Hbase : encl (I.add prec (I.add prec (top D) (top F)) (I.mul prec (I.sub prec one a) (top Wt)))
                       (top_real D + top_real F + (1 - ar) * top_real Wt)).
  { apply encl_add; [apply encl_add; apply encl_top; assumption|].
    apply encl_mul; [apply encl_sub; assumption | apply encl_top; assumption]. }
  split; eapply encl_is_negative; [| exact H1 | | exact H2]; apply encl_add; try exact Hbase;
    apply encl_mul; try (apply encl_sub; assumption); [apply encl_top | apply encl_bot]; assumption.
Qed.

Lemma list_max_in (l : list nat) : l <> [] -> In (list_max l) l.
Proof.
  induction l as [|a l IH]; intros H; [contradiction|].
  destruct l as [|b l'].
  - left. simpl. lia.
  - change (list_max (a :: b :: l')) with (Nat.max a (list_max (b :: l'))).
    destruct (Nat.max_spec a (list_max (b :: l'))) as [[_ E]|[_ E]]; rewrite E.
    + right. apply IH. discriminate.
    + left. reflexivity.
Qed.

Section SubcubicSound.
Variable M : model.
Variable IP : ipaths.
Variable W : sc_witness.

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).

Hypothesis Hn : (0 < n)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.

Local Notation TD := (match w_error W with ER_max_diff => approx_data M W | _ => (Cubic.te M IP, [], []) end).
Local Notation TE := (fst (fst TD)).
Local Notation Fs := (snd (fst TD)).
Local Notation oks := (snd TD).
Local Notation TPI := (Cubic.tpi M IP).
Local Notation G := (match w_direct W with DP_global_max_diff_exact => dterm_global M IP | _ => I.zero end).
Local Notation qds := (map (qdata_of M TE TPI Fs oks) (seq 0 v)).
Local Notation mu := (match centre M W with Some ce => Some (mu_list M (iU M) ce) | None => None end).
Local Notation Dl := (match centre M W with Some ce => delta_list M (iU M) (iEq M) ce | None => [] end).

(** The checker's row ranges of U are finite (it checks them for the centred modes). *)
Hypothesis Huok : match centre M W with Some _ => urange_ok M (iU M) = true | None => True end.




(** ** Section 5: the direct path *)

Lemma encl_pstar (m x p : nat) : (m < v)%nat -> (x < v)%nat -> (p < n)%nat ->
  encl (pstar M IP m x) (PVOU M p x - PVOU M p m).
Proof.
  intros Hm Hx Hp. destruct HIP as (_ & _ & HPV & _). unfold Cubic.pstar.
  apply (encl_ijoin _ _ p); [apply in_seq; lia|]. apply encl_sub; apply HPV; assumption.
Qed.



(** The centred bound: for any centre c and any r_l >= |U[l,x] - U[l,m]|,
    (e U)[x] - (e U)[m] <= (c U)[x] - (c U)[m] + sum_l |e_l - c_l| r_l. *)
Lemma centred_bound (d : nat) (e c r : nat -> R) (U : matrix) (x m : nat) :
  (forall l, (l < d)%nat -> Rabs (U l x - U l m) <= r l) ->
  rsum d (fun l => e l * U l x) - rsum d (fun l => e l * U l m)
  <= (rsum d (fun l => c l * U l x) - rsum d (fun l => c l * U l m)) + rsum d (fun l => Rabs (e l - c l) * r l).
Proof.
  intros Hr. rewrite !rsum_sub.
  apply (Rle_trans _ (rsum d (fun l => c l * U l x - c l * U l m)
                      + rsum d (fun l => (e l - c l) * (U l x - U l m)))).
  - rewrite <- rsum_plus. apply Req_le, rsum_ext. intros l _. ring.
  - apply Rplus_le_compat_l, rsum_le. intros l Hl.
    apply (Rle_trans _ (Rabs ((e l - c l) * (U l x - U l m)))); [apply Rle_abs|].
    rewrite Rabs_mult. apply Rmult_le_compat_l; [apply Rabs_pos | apply Hr, Hl].
Qed.

Definition c_r (ce : list Z * Z) (l : nat) : R := IZR (nth l (fst ce) 0%Z) * powerRZ 2 (snd ce).

Lemma encl_mu (ce : list Z * Z) (x : nat) : (x < v)%nat ->
  encl (nth x (mu_list M (iU M) ce) I.nai) (rsum (d_model M) (fun l => c_r ce l * mU M l x)).
Proof.
  intros Hx. unfold mu_list. rewrite nth_map_seq by exact Hx. apply encl_isum. intros l Hl.
  apply encl_mul; [apply encl_iround|]. unfold iU. apply (encl_ztoi _ _ _ _ (zmat_eq_entry _ _ _)); assumption.
Qed.

Lemma urange_abs (l x m : nat) : (l < d_model M)%nat -> (x < v)%nat -> (m < v)%nat ->
  has_top (urange M (iU M) l) = true -> Rabs (mU M l x - mU M l m) <= top_real (urange M (iU M) l).
Proof.
  intros Hl Hx Hm Ht.
  assert (HU : forall y, (y < v)%nat -> encl (ijoin (fun y => iget (iU M) l y) (seq 0 v)) (mU M l y)).
  { intros y Hy. apply (encl_ijoin _ _ y); [apply in_seq; lia|].
    unfold iU. apply (encl_ztoi _ _ _ _ (zmat_eq_entry _ _ _)); assumption. }
  apply Rabs_le. split.
  - assert (mU M l m - mU M l x <= top_real (urange M (iU M) l)); [|lra].
    apply le_top; [exact Ht|]. unfold urange. cbv zeta. apply encl_sub; apply HU; assumption.
  - apply le_top; [exact Ht|]. unfold urange. cbv zeta. apply encl_sub; apply HU; assumption.
Qed.

(** Section 5, with the positional pessimisation: dU(q,x) + dP(p,x) <= dterm[q][m] + L_m[x]. *)
Lemma direct_spec (q m x p : nat) :
  (q < v)%nat -> (m < v)%nat -> (x < v)%nat -> x <> m -> (p < n)%nat ->
  has_top (dterm M IP W G Dl q m) = true -> has_top (Lx M IP mu m x) = true ->
  (EUPU M q x - EUPU M q m) + (PVOU M p x - PVOU M p m)
  <= top_real (dterm M IP W G Dl q m) + top_real (Lx M IP mu m x).
Proof.
  intros Hq Hm Hx Hxm Hp HD HL. destruct HIP as (HU & _).
  pose proof (encl_pstar m x p Hm Hx Hp) as HP.
  unfold dterm, Lx in *. unfold centre in *. destruct (w_direct W) eqn:Hd.
  4: { pose proof (le_top _ _ HL HP).
       match goal with |- _ <= top_real ?D' + _ => enough (EUPU M q x - EUPU M q m <= top_real D') by lra end.
       apply le_top; [exact HD|]. unfold dterm_exact. apply encl_sub; [|apply HU; assumption].
       apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption | apply HU; assumption]. }
  4: { pose proof (le_top _ _ HL HP).
       match goal with |- _ <= top_real ?D' + _ => enough (EUPU M q x - EUPU M q m <= top_real D') by lra end.
       apply le_top; [exact HD|]. unfold dterm_global. apply (encl_ijoin _ _ q); [apply in_seq; lia|]. cbv zeta.
       apply encl_sub; [apply (encl_ijoin _ _ x) | apply (encl_ijoin _ _ m)];
       try (apply in_seq; lia); apply HU; assumption. }
  all: match goal with |- context [mu_list M _ ?c] => set (ce := c) in * end.
  all: assert (HLr : (rsum (d_model M) (fun l => c_r ce l * mU M l x) - rsum (d_model M) (fun l => c_r ce l * mU M l m))
                     + (PVOU M p x - PVOU M p m) <= top_real (I.add prec (I.sub prec (nth x (mu_list M (iU M) ce) I.nai)
                          (nth m (mu_list M (iU M) ce) I.nai)) (pstar M IP m x)))
         by (apply le_top; [exact HL | apply encl_add; [apply encl_sub; apply encl_mu; assumption | exact HP]]).
  all: assert (HDr : rsum (d_model M) (fun l => Rabs (E_q M q l - c_r ce l) * top_real (urange M (iU M) l))
                     <= top_real (nth q (delta_list M (iU M) (iEq M) ce) I.nai)).
  all: try (apply le_top; [exact HD|]; unfold delta_list; cbv zeta; rewrite nth_map_seq by exact Hq;
            apply encl_isum; intros l Hl; rewrite nth_map_seq by exact Hl; apply encl_mul;
            [apply encl_abs, encl_sub; [apply (encl_ztoi _ _ _ _ (zE_q_eq M Hn)); assumption | apply encl_iround]
            | apply encl_top; unfold urange_ok in Huok; rewrite forallb_forall in Huok; apply Huok, in_seq; lia]).
  all: assert (Hc : EUPU M q x - EUPU M q m
                    <= (rsum (d_model M) (fun l => c_r ce l * mU M l x) - rsum (d_model M) (fun l => c_r ce l * mU M l m))
                       + rsum (d_model M) (fun l => Rabs (E_q M q l - c_r ce l) * top_real (urange M (iU M) l)))
         by (apply centred_bound; intros l Hl; apply urange_abs; try assumption;
             unfold urange_ok in Huok; rewrite forallb_forall in Huok; apply Huok, in_seq; lia).
  all: lra.
Qed.

(** ** The per-max data *)

Ltac unfold_data := unfold mdata_of, qdata_of in *; cbv beta zeta in *;
  cbn [md_P md_E md_Eh md_W md_fbar md_f1 qd_pi qd_e qd_hull] in *.

Definition abar_r (m c : nat) : R :=
  match w_attention W with
  | AT_per_query => 0
  | AT_mean_diff => IZR (zget (w_abar W) m c) * powerRZ 2 (w_abar_exp W)
  end.

Lemma encl_abar (m c : nat) : encl (abar_i W m c) (abar_r m c).
Proof. unfold abar_i, abar_r. destruct (w_attention W); [apply encl_iround | apply encl_zero]. Qed.



Lemma encl_Em (m x : nat) : (m < v)%nat -> (x < v)%nat ->
  encl (nth x (md_E (mdata_of M IP W mu m)) I.nai) (EVOU M m x - EVOU M m m).
Proof.
  intros Hm Hx. destruct HIP as (_ & HV & _). unfold_data. rewrite nth_map_seq by exact Hx.
  unfold Em. apply encl_sub; apply HV; assumption.
Qed.

Lemma P_nth (m x : nat) : (x < v)%nat -> nth x (md_P (mdata_of M IP W mu m)) I.nai = Lx M IP mu m x.
Proof. intros Hx. unfold_data. apply nth_map_seq, Hx. Qed.

Lemma encl_Eh (m x : nat) : (m < v)%nat -> (x < v)%nat -> x <> m ->
  encl (md_Eh (mdata_of M IP W mu m)) (EVOU M m x - EVOU M m m).
Proof.
  intros Hm Hx Hxm. pose proof (encl_Em m x Hm Hx) as H. unfold_data.
  apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption | exact H].
Qed.

Lemma encl_W (m tp k x : nat) : (m < v)%nat -> (tp < m)%nat -> (k <= tp)%nat -> (x < v)%nat -> x <> m ->
  encl (nth tp (md_W (mdata_of M IP W mu m)) I.nai) (EVOU M k x - EVOU M k m).
Proof.
  intros Hm Ht Hk Hx Hxm. destruct HIP as (_ & HV & _). unfold_data.
  apply (encl_scan _ _ _ k); [rewrite map_length, seq_length; exact Ht | exact Hk|].
  rewrite nth_map_seq by lia. unfold worst. apply encl_sub; [|apply HV; lia].
  apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption | apply HV; lia].
Qed.

Lemma encl_fbar (m c x : nat) : (m < v)%nat -> (c < n)%nat -> (x < v)%nat -> x <> m ->
  has_top (Lx M IP mu m x) = true ->
  encl (nth c (md_fbar (mdata_of M IP W mu m)) I.nai)
       (top_real (Lx M IP mu m x) + abar_r m c * (EVOU M m x - EVOU M m m)).
Proof.
  intros Hm Hc Hx Hxm Ht. pose proof (encl_Em m x Hm Hx) as HE. unfold_data.
  rewrite nth_map_seq by exact Hc.
  apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption|].
  rewrite nth_map_seq by exact Hx.
  apply encl_add; [apply encl_top, Ht|]. apply encl_mul; [apply encl_abar | exact HE].
Qed.

Lemma encl_f1 (m x : nat) : (m < v)%nat -> (x < v)%nat -> x <> m ->
  has_top (Lx M IP mu m x) = true ->
  encl (md_f1 (mdata_of M IP W mu m)) (top_real (Lx M IP mu m x) + (EVOU M m x - EVOU M m m)).
Proof.
  intros Hm Hx Hxm Ht. pose proof (encl_Em m x Hm Hx) as HE. unfold_data.
  apply (encl_ijoin _ _ x); [apply (in_others M Hn Hdh); assumption|].
  rewrite nth_map_seq by exact Hx. apply encl_add; [apply encl_top, Ht | exact HE].
Qed.

Lemma md_ok_spec (m x : nat) : md_ok M m (mdata_of M IP W mu m) = true -> (x < v)%nat -> x <> m ->
  has_top (Lx M IP mu m x) = true.
Proof.
  intros H Hx Hxm. unfold md_ok in H. rewrite forallb_forall in H.
  rewrite <- (P_nth m x Hx). apply H, (in_others M Hn Hdh); assumption.
Qed.

(** ** The per-query data *)

Lemma qds_nth (q : nat) : (q < v)%nat -> nth q qds (mk_qdata [] [] [] None true) = qdata_of M TE TPI Fs oks q.
Proof. intros Hq. apply nth_map_seq, Hq. Qed.

Lemma encl_qpi (q p : nat) : (q < v)%nat -> (p < n)%nat ->
  encl (nth p (qd_pi (qdata_of M TE TPI Fs oks q)) I.nai) (pi_real M q p).
Proof. intros Hq Hp. apply (tpi_spec M IP Hdh HIP); assumption. Qed.

Lemma nth_nil {A} (k : nat) (x : A) : nth k [] x = x.
Proof. destruct k; reflexivity. Qed.

(** Section 2 with section 4: for every k <= top, [ratio] contains
    exp(EQKE[q,k] / sqrt d_head) / exp(EQKE[q,m] / sqrt d_head). *)
Lemma ratio_spec (q m tp k : nat) :
  (q < v)%nat -> (m < v)%nat -> (tp < v)%nat -> (k <= tp)%nat ->
  qd_ok (qdata_of M TE TPI Fs oks q) = true ->
  encl (ratio (qdata_of M TE TPI Fs oks q) tp m) (e_real M q k / e_real M q m).
Proof.
  intros Hq Hm Ht Hk Hok. unfold ratio, qdata_of in *. cbv zeta in *. cbn [qd_F qd_hull qd_e qd_ok] in *.
  assert (Hem : e_real M q m <> 0) by apply Rgt_not_eq, exp_pos.
  destruct (w_error W) eqn:Herr; cbn [fst snd] in *; rewrite ?nth_nil.
  10: { apply encl_div; [exact Hem| |].
        - apply (encl_scan _ _ _ k); [rewrite map_length, seq_length; exact Ht | exact Hk|].
          rewrite nth_map_seq by lia. apply (te_spec M IP Hdh HIP); lia.
        - rewrite nth_map_seq by exact Hm. apply (te_spec M IP Hdh HIP); assumption. }
  all: try (apply encl_div; [exact Hem| |];
        [ apply (encl_scan _ _ _ k); [rewrite map_length, seq_length; exact Ht | exact Hk|];
          rewrite nth_map_seq by lia; apply (te_spec M IP Hdh HIP); lia
        | rewrite nth_map_seq by exact Hm; apply (te_spec M IP Hdh HIP); assumption ]).
  (* max_diff *)
  unfold approx_data in *. cbv zeta in *. cbn [fst snd] in *.
  rewrite nth_map_seq in Hok by exact Hq. rewrite (nth_map_seq _ v q None) by exact Hq.
  set (a := w_rank_a W) in *. set (b := w_rank_b W) in *. set (e := w_rank_exp W) in *.
  set (ei := nth q (map (fun q0 => iround (nth q0 (w_eps W) 0%Z) (w_eps_exp W)) (seq 0 v)) I.nai) in *.
  set (epsr := IZR (nth q (w_eps W) 0%Z) * powerRZ 2 (w_eps_exp W)).
  assert (Hei : encl ei epsr) by (unfold ei; rewrite nth_map_seq by exact Hq; apply encl_iround).
  apply andb_prop in Hok as [Hok Heit]. apply andb_prop in Hok as [Hok Heib].
  set (al := alpha M (dy a e) q). set (bt := beta M (dy b e)).
  set (rho' := 1 / sqrt (INR (d_head M))).
  (* the table entries *)
  assert (HT : forall j, (j < v)%nat -> encl (nth j (map (iget (build v v (fun q0 k0 =>
                 I.exp prec (I.mul prec (I.mul prec
                   (nth q0 (map (fun q1 => isum (d_model M) (fun l => I.mul prec (iget (iL1 M) q1 l)
                      (iround (nth l a 0%Z) e))) (seq 0 v)) I.nai)
                   (nth k0 (map (fun k1 => isum (d_model M) (fun l => I.mul prec (iget (ztoi v (d_model M) (W_E M)) k1 l)
                      (iround (nth l b 0%Z) e))) (seq 0 v)) I.nai)) (inv_sqrt (d_head M))))) q) (seq 0 v)) I.nai)
               (exp (al * bt j * rho'))).
  { intros j Hj. rewrite nth_map_seq by exact Hj. rewrite iget_build by assumption.
    apply encl_exp, encl_mul; [apply encl_mul|apply encl_inv_sqrt, Hdh].
    - rewrite nth_map_seq by exact Hq. apply encl_isum. intros l Hl. apply encl_mul; [|apply encl_iround].
      apply (encl_L1 M Hn); assumption.
    - rewrite nth_map_seq by exact Hj. apply encl_isum. intros l Hl. apply encl_mul; [|apply encl_iround].
      apply (encl_ztoi _ _ _ _ (zmat_eq_entry _ _ _)); assumption. }
  (* the error of E~, both ways *)
  assert (Hd1 := eps_ok_spec M a b e ei epsr q k m Hn Hq ltac:(lia) Hm Hei Hok).
  assert (Hd2 := eps_ok_spec M a b e ei epsr q m k Hn Hq Hm ltac:(lia) Hei Hok).
  set (dl := err M (dy a e) (dy b e) q k - err M (dy a e) (dy b e) q m) in *.
  assert (Hid : e_real M q k / e_real M q m = exp (al * bt k * rho') / exp (al * bt m * rho') * exp (dl * rho')).
  { unfold e_real, rho, dl, al, bt, rho'. rewrite !(eqke_rank_one M (dy a e) (dy b e)).
    set (ek := err M (dy a e) (dy b e) q k). set (em := err M (dy a e) (dy b e) q m).
    set (A1 := alpha M (dy a e) q * beta M (dy b e) k). set (A2 := alpha M (dy a e) q * beta M (dy b e) m).
    set (s := 1 / sqrt (INR (d_head M))).
    replace ((ek + A1) * s) with (A1 * s + ek * s) by ring.
    replace ((em + A2) * s) with (A2 * s + em * s) by ring.
    replace ((ek - em) * s) with (ek * s + - (em * s)) by ring.
    rewrite !exp_plus, exp_Ropp.
    assert (exp (A2 * s) <> 0) by apply Rgt_not_eq, exp_pos.
    assert (exp (em * s) <> 0) by apply Rgt_not_eq, exp_pos.
    field. split; assumption. }
  rewrite Hid. apply encl_mul; [apply encl_div; [apply Rgt_not_eq, exp_pos| |]|].
  - apply (encl_scan _ _ _ k); [rewrite map_length, seq_length; exact Ht | exact Hk|]. apply HT. lia.
  - apply HT, Hm.
  - apply encl_exp, encl_mul; [|apply encl_inv_sqrt, Hdh].
    apply encl_between; [exact Heib | exact Heit|]. split.
    + apply (Rle_trans _ (- epsr)); [apply bot_le; [exact Heib | apply encl_neg', Hei]|]. unfold dl. lra.
    + apply (Rle_trans _ epsr); [apply Rlt_le, Hd1 | apply le_top; [exact Heit | exact Hei]].
Qed.

(** ** The cases *)

Lemma top_of_spec (q m c tp : nat) : top_of W q m c = Some tp -> (tp < m)%nat /\ (q <> m -> q <= tp)%nat.
Proof.
  unfold top_of. cbv zeta.
  destruct ((1 <=? gap W q m c)%Z && (0 <=? Z.of_nat m - gap W q m c)%Z
            && (Nat.eqb q m || (Z.of_nat q <=? Z.of_nat m - gap W q m c)%Z)) eqn:E; [|discriminate].
  intros H. injection H as <-.
  apply andb_prop in E as [E E3]. apply andb_prop in E as [E1 E2].
  apply Z.leb_le in E1, E2. split; [lia|].
  intros Hqm. apply orb_prop in E3 as [E3|E3]; [apply Nat.eqb_eq in E3; contradiction|].
  apply Z.leb_le in E3. lia.
Qed.

Lemma sc_S_lt (q m : nat) (mask : list bool) (k : nat) : In k (sc_S W q m mask) -> (k < m)%nat.
Proof.
  unfold sc_S. destruct (top_of W q m (case_c q m mask)) as [tp|] eqn:E; [|intros []].
  intros Hk. apply in_seq in Hk. destruct (top_of_spec _ _ _ _ E). lia.
Qed.

Lemma sc_S_NoDup (q m : nat) (mask : list bool) : NoDup (sc_S W q m mask).
Proof. unfold sc_S. destruct (top_of W q m _); [apply seq_NoDup | constructor]. Qed.

Lemma tok_eq_max (t : list nat) (p : nat) :
  valid_seq M t -> (p < n)%nat -> (tok t p < list_max t)%nat \/ tok t p = list_max t.
Proof. intros Ht Hp. pose proof (tok_le_max M Hn Hdh t p Ht Hp). lia. Qed.

(** A certified case proves every sequence of its key (with the values [sc_S]) correct. *)
Theorem sc_case_sound (t : list nat) (q m : nat) (mask : list bool) :
  (m < v)%nat -> (q <= m)%nat -> length mask = (n - 1)%nat -> valid_key q m mask = true ->
  sc_case_test M W (mdata_of M IP W mu m) (qdata_of M TE TPI Fs oks q) (dterm M IP W G Dl q m) q m mask = true ->
  In t (product (choices q m mask (sc_S W q m mask))) ->
  correct M t.
Proof.
  intros Hm Hqm Hlen Hkey Htest Hin.
  assert (Hq : (q < v)%nat) by lia.
  destruct (product_choices_shape M Hn Hdh t q m mask (sc_S W q m mask) Hm Hqm Hlen
              (sc_S_lt q m mask) Hkey Hin) as [Hv Hmax Hquery Hmask HS].
  intros x Hx Hxm. rewrite Hmax in Hxm |- *.
  apply (wins_iff_unnormalised_neg M t m x Hn).
  set (md := mdata_of M IP W mu m) in *. set (qd := qdata_of M TE TPI Fs oks q) in *.
  set (D := dterm M IP W G Dl q m) in *.
  unfold sc_case_test in Htest. fold md qd D in Htest.
  apply andb_prop in Htest as [Htest Hrest]. apply andb_prop in Htest as [Hok HD].
  pose proof (md_ok_spec m x Hok Hx Hxm) as HPt.
  (* every position's token is m or below it *)
  assert (Htok : forall p, (p < n)%nat -> (tok t p <= m)%nat).
  { intros p Hp. rewrite <- Hmax. apply (tok_le_max M Hn Hdh); assumption. }
  assert (HtokV : forall p, (p < n)%nat -> (tok t p < v)%nat).
  { intros p Hp. pose proof (Htok p Hp). lia. }
  (* h_p(x) <= dterm + PVOU*_m[x] + dV(t_p, x) *)
  set (B := top_real D + top_real (Lx M IP mu m x)).
  assert (Hh : forall p, (p < n)%nat ->
            h M t m x p <= B + (EVOU M (tok t p) x - EVOU M (tok t p) m)).
  { intros p Hp. unfold h, B, D. rewrite Hquery.
    pose proof (direct_spec q m x p Hq Hm Hx Hxm Hp HD HPt). lra. }
  assert (Hexp : forall p, exp (score M t p) = e_real M q (tok t p) * pi_real M q p).
  { intros p. rewrite exp_score, Hquery. reflexivity. }
  assert (Hpi : forall p, 0 < pi_real M q p) by (intros; apply exp_pos).
  assert (He : forall k, 0 < e_real M q k) by (intros; apply exp_pos).
  set (c := case_c q m mask) in *.
  destruct (Nat.eqb c 0) eqn:Hc0.
  - (* c = 0: every token is m, A = 1 *)
    apply andb_prop in Hrest as [Hf1 Hneg].
    apply Nat.eqb_eq in Hc0. unfold c, case_c in Hc0.
    assert (Hqm' : q = m) by (destruct (Nat.eqb_spec q m); [assumption | lia]).
    assert (Hall : forall p, (p < n)%nat -> tok t p = m).
    { intros p Hp. destruct (Nat.eq_dec p (n - 1)) as [->|Hne].
      - rewrite <- Hqm', <- Hquery. reflexivity.
      - destruct (tok_eq_max t p Hv Hp) as [Hlt|Heq]; [|rewrite <- Hmax; exact Heq].
        exfalso. rewrite Hmax in Hlt.
        assert (Hb : nth p (mask_of M t m) false = true).
        { unfold mask_of. rewrite nth_map_seq by lia. apply Nat.ltb_lt, Hlt. }
        rewrite Hmask, (count_true_0 M Hn Hdh mask p ltac:(lia)) in Hb. discriminate. }
    set (K := top_real D + top_real (md_f1 md)).
    assert (HK : K < 0).
    { apply (encl_is_negative _ _ (encl_add _ _ _ _ (encl_top _ HD) (encl_top _ Hf1)) Hneg). }
    assert (HK' : B + (EVOU M m x - EVOU M m m) <= K).
    { unfold B, K. pose proof (le_top _ _ Hf1 (encl_f1 m x Hm Hx Hxm HPt)). fold md in H. lra. }
    apply (Rle_lt_trans _ (rsum n (fun p => exp (score M t p)) * K)).
    + unfold unnormalised. rewrite <- rsum_scal_r. apply rsum_le. intros p Hp.
      apply Rmult_le_compat_l; [left; apply exp_pos|].
      pose proof (Hh p Hp) as Hhp. rewrite (Hall p Hp) in Hhp. lra.
    + pose proof (partition_pos M t Hn). nra.
  - (* c >= 1 *)
    destruct (top_of W q m c) as [tp|] eqn:Htop; [|discriminate].
    destruct (top_of_spec q m c tp Htop) as [Htpm Hqtp].
    (* non-max tokens are <= top *)
    assert (Hnonmax : forall p, (p < n)%nat -> tok t p <> m -> (tok t p <= tp)%nat).
    { intros p Hp Hne. destruct (Nat.eq_dec p (n - 1)) as [->|Hpn].
      - assert (Hq' : tok t (n - 1) = q) by (rewrite <- Hquery; reflexivity).
        rewrite Hq' in Hne |- *. apply Hqtp, Hne.
      - assert (Hlt : (tok t p < m)%nat) by (pose proof (Htok p Hp); lia).
        specialize (HS p ltac:(lia) Hlt). unfold sc_S in HS. fold c in HS. rewrite Htop in HS.
        apply in_seq in HS. lia. }
    (* the checker's ismax is "the token is m" *)
    assert (Hism : forall p, (p < n)%nat -> ismax M q m mask p = Nat.eqb (tok t p) m).
    { intros p Hp. unfold ismax. destruct (Nat.ltb_spec p (n - 1)) as [Hpn|Hpn].
      - rewrite <- Hmask. unfold mask_of. rewrite nth_map_seq by exact Hpn.
        pose proof (Htok p Hp). destruct (Nat.ltb_spec (tok t p) m); destruct (Nat.eqb_spec (tok t p) m);
          simpl; reflexivity || lia.
      - replace p with (n - 1)%nat by lia. fold (query M t). rewrite Hquery. reflexivity. }
    set (X := rsum n (fun p => if Nat.eqb (tok t p) m then pi_real M q p else 0)).
    set (Yr := rsum n (fun p => if Nat.eqb (tok t p) m then 0 else pi_real M q p)).
    set (Y2 := rsum n (fun p => if Nat.eqb (tok t p) m then 0
                                else e_real M q (tok t p) / e_real M q m * pi_real M q p)).
    set (r := ratio qd tp m) in *.
    set (Ex := EVOU M m x - EVOU M m m).
    set (Wt := nth tp (md_W md) I.nai) in *.
    set (F := nth c (md_fbar md) I.nai) in *.
    (* the checker's tests *)
    cbv zeta in Hrest.
    repeat match type of Hrest with (_ && _)%bool = true => apply andb_prop in Hrest as [Hrest ?] end.
    rename Hrest into Hqok.
    match goal with
    | H0 : has_top r = true, H1 : has_bot r = true, H2 : is_negative (I.sub prec I.zero ?dl) = true,
      H3 : is_negative (I.sub prec I.zero ?dh) = true, H4 : has_bot (I.div prec ?pm ?dl) = true,
      H5 : has_top (I.div prec ?pm ?dh) = true, H6 : has_top F = true, H7 : has_top Wt = true,
      H8 : has_top (md_Eh md) = true, H9 : has_bot (md_Eh md) = true,
      H10 : endpoint_ok D F Wt (md_Eh md) (abar_i W m c) (bot (I.div prec ?pm ?dl)) = true,
      H11 : endpoint_ok D F Wt (md_Eh md) (abar_i W m c) (top (I.div prec ?pm ?dh)) = true |- _ =>
      rename H0 into Hrt, H1 into Hrb, H2 into Hdl, H3 into Hdh', H4 into Halo, H5 into Hahi, H6 into HF,
        H7 into HWt, H8 into HEt, H9 into HEb, H10 into Nlo, H11 into Nhi
    end.
    (* enclosures of the sums *)
    assert (HX : encl (wsum M (qd_pi qd) (ismax M q m mask)) X).
    { unfold wsum, X. apply encl_isum. intros p Hp. rewrite (Hism p Hp).
      destruct (Nat.eqb (tok t p) m); [apply encl_qpi; assumption | apply encl_zero]. }
    assert (HY : encl (wsum M (qd_pi qd) (fun p => negb (ismax M q m mask p))) Yr).
    { unfold wsum, Yr. apply encl_isum. intros p Hp. rewrite (Hism p Hp).
      destruct (Nat.eqb (tok t p) m); [apply encl_zero | apply encl_qpi; assumption]. }
    set (Xi := wsum M (qd_pi qd) (ismax M q m mask)) in *.
    set (Yi := wsum M (qd_pi qd) (fun p => negb (ismax M q m mask p))) in *.
    set (rT := top_real r). set (rB := bot_real r).
    assert (HdlE : encl (I.add prec Xi (I.mul prec (top r) Yi)) (X + rT * Yr)).
    { apply encl_add; [exact HX | apply encl_mul; [apply encl_top, Hrt | exact HY]]. }
    assert (HdhE : encl (I.add prec Xi (I.mul prec (bot r) Yi)) (X + rB * Yr)).
    { apply encl_add; [exact HX | apply encl_mul; [apply encl_bot, Hrb | exact HY]]. }
    pose proof (encl_is_positive _ _ HdlE Hdl) as Pdl.
    pose proof (encl_is_positive _ _ HdhE Hdh') as Pdh.
    (* the non-max weights, relative to the max's: section 2 and section 4 *)
    assert (Hratio : forall p, (p < n)%nat -> tok t p <> m ->
              rB <= e_real M q (tok t p) / e_real M q m <= rT).
    { intros p Hp Hne. pose proof (ratio_spec q m tp (tok t p) Hq Hm ltac:(lia) (Hnonmax p Hp Hne) Hqok) as H.
      fold qd r in H. split; [apply bot_le | apply le_top]; assumption. }
    assert (HYr : 0 <= Yr).
    { unfold Yr. apply rsum_nonneg. intros p Hp. destruct (Nat.eqb (tok t p) m); [lra | left; apply Hpi]. }
    assert (HY2lo : rB * Yr <= Y2).
    { unfold Yr, Y2. rewrite <- rsum_scal_l. apply rsum_le. intros p Hp.
      destruct (Nat.eqb_spec (tok t p) m) as [E|E]; [lra|].
      apply Rmult_le_compat_r; [left; apply Hpi | apply Hratio; assumption]. }
    assert (HY2hi : Y2 <= rT * Yr).
    { unfold Yr, Y2. rewrite <- rsum_scal_l. apply rsum_le. intros p Hp.
      destruct (Nat.eqb_spec (tok t p) m) as [E|E]; [lra|].
      apply Rmult_le_compat_r; [left; apply Hpi | apply Hratio; assumption]. }
    assert (HY20 : 0 <= Y2).
    { unfold Y2. apply rsum_nonneg. intros p Hp. destruct (Nat.eqb (tok t p) m); [lra|].
      left. apply Rmult_lt_0_compat; [apply Rdiv_lt_0_compat; apply He | apply Hpi]. }
    (* the max copies: m occurs in t *)
    assert (HXpos : 0 < X).
    { assert (Hne : t <> []) by (intros ->; destruct Hv as [Hl _]; simpl in Hl; lia).
      pose proof (list_max_in t Hne) as Hin'. rewrite Hmax in Hin'.
      apply (In_nth t m 0%nat) in Hin' as [p [Hp Hpm]].
      destruct Hv as [Hl _]. rewrite Hl in Hp.
      unfold X. apply (rsum_pos_one n p); [|exact Hp|].
      - intros i Hi. destruct (Nat.eqb (tok t i) m); [left; apply Hpi | lra].
      - unfold tok. rewrite Hpm, Nat.eqb_refl. apply Hpi. }
    (* the attention bounds of section 2: A = X / (X + Y2) *)
    assert (Hlo : bot_real (I.div prec Xi (I.add prec Xi (I.mul prec (top r) Yi))) <= X / (X + Y2)).
    { apply (Rle_trans _ (X / (X + rT * Yr))).
      - apply bot_le; [exact Halo|]. apply encl_div; [lra | exact HX | exact HdlE].
      - apply div_anti; lra. }
    assert (Hhi : X / (X + Y2) <= top_real (I.div prec Xi (I.add prec Xi (I.mul prec (bot r) Yi)))).
    { apply (Rle_trans _ (X / (X + rB * Yr))).
      - apply div_anti; lra.
      - apply le_top; [exact Hahi|]. apply encl_div; [lra | exact HX | exact HdhE]. }
    (* section 3 at both ends *)
    assert (Hc : (c < n)%nat).
    { destruct (Nat.lt_ge_cases c n) as [Hc|Hc]; [exact Hc|]. exfalso. revert HF. unfold F.
      rewrite nth_overflow by (unfold md; unfold_data; rewrite map_length, seq_length; exact Hc).
      vm_compute. discriminate. }
    assert (Hfb : top_real (Lx M IP mu m x) + abar_r m c * Ex <= top_real F).
    { apply le_top; [exact HF|]. apply encl_fbar; assumption. }
    assert (HR : bot_real (md_Eh md) <= Ex <= top_real (md_Eh md)).
    { split; [apply bot_le | apply le_top]; try assumption; apply encl_Eh; assumption. }
    set (Wr := top_real Wt).
    assert (Nlo' : B + bot_real (I.div prec Xi (I.add prec Xi (I.mul prec (top r) Yi))) * Ex
                   + (1 - bot_real (I.div prec Xi (I.add prec Xi (I.mul prec (top r) Yi)))) * Wr < 0).
    { destruct (endpoint_ok_spec _ _ _ _ _ _ _ _ HD HF HWt HEt HEb (encl_abar m c) (encl_bot _ Halo) Nlo).
      unfold B. eapply endpoint_real; eassumption. }
    assert (Nhi' : B + top_real (I.div prec Xi (I.add prec Xi (I.mul prec (bot r) Yi))) * Ex
                   + (1 - top_real (I.div prec Xi (I.add prec Xi (I.mul prec (bot r) Yi)))) * Wr < 0).
    { destruct (endpoint_ok_spec _ _ _ _ _ _ _ _ HD HF HWt HEt HEb (encl_abar m c) (encl_top _ Hahi) Nhi).
      unfold B. eapply endpoint_real; eassumption. }
    pose proof (mix_neg X Y2 B Ex Wr _ _ HXpos HY20 Hlo Hhi Nlo' Nhi') as Hmix.
    (* the unnormalised margin is at most e_m (X (B + E_m[x]) + Y2 (B + W)) *)
    apply (Rle_lt_trans _ (e_real M q m * (X * (B + Ex) + Y2 * (B + Wr)))).
    + unfold unnormalised.
      apply (Rle_trans _ (rsum n (fun p => (if Nat.eqb (tok t p) m then e_real M q m * pi_real M q p else 0) * (B + Ex)
                                     + (if Nat.eqb (tok t p) m then 0 else e_real M q (tok t p) * pi_real M q p) * (B + Wr)))).
      * apply rsum_le. intros p Hp. rewrite Hexp.
        pose proof (Hh p Hp) as Hhp.
        assert (Hpos : 0 < e_real M q (tok t p) * pi_real M q p) by (apply Rmult_lt_0_compat; [apply He | apply Hpi]).
        destruct (Nat.eqb_spec (tok t p) m) as [E|E].
        -- rewrite E in Hhp |- *. fold Ex in Hhp.
           assert (e_real M q m * pi_real M q p * h M t m x p <= e_real M q m * pi_real M q p * (B + Ex))
             by (apply Rmult_le_compat_l; [rewrite E in Hpos; lra | exact Hhp]). lra.
        -- assert (Hdv : EVOU M (tok t p) x - EVOU M (tok t p) m <= Wr).
           { apply le_top; [exact HWt|]. apply encl_W; try assumption. apply Hnonmax; assumption. }
           assert (e_real M q (tok t p) * pi_real M q p * h M t m x p
                   <= e_real M q (tok t p) * pi_real M q p * (B + Wr))
             by (apply Rmult_le_compat_l; [lra | lra]). lra.
      * rewrite rsum_plus, !rsum_scal_r.
        assert (E1 : rsum n (fun p => if Nat.eqb (tok t p) m then e_real M q m * pi_real M q p else 0)
                     = e_real M q m * X).
        { unfold X. rewrite <- rsum_scal_l. apply rsum_ext. intros p _. destruct (Nat.eqb (tok t p) m); ring. }
        assert (E2 : rsum n (fun p => if Nat.eqb (tok t p) m then 0 else e_real M q (tok t p) * pi_real M q p)
                     = e_real M q m * Y2).
        { unfold Y2. rewrite <- rsum_scal_l. apply rsum_ext. intros p _. destruct (Nat.eqb (tok t p) m); [ring|].
          field. apply Rgt_not_eq, He. }
        rewrite E1, E2. apply Req_le. ring.
    + pose proof (He m). nra.
Qed.

(** ** The witness list: duplicate-free, correct, and as long as the count *)

Definition sc_list (m q : nat) (mk : list bool) : list (list nat) :=
  if valid_key q m mk && sc_case_test M W (mdata_of M IP W mu m) (qdata_of M TE TPI Fs oks q) (dterm M IP W G Dl q m) q m mk
  then product (choices q m mk (sc_S W q m mk)) else [].

Definition sc_witness_list : list (list nat) :=
  if covered W then
    flat_map (fun m => flat_map (fun q => flat_map (sc_list m q) (all_masks (n - 1))) (seq 0 (S m))) (seq 0 v)
  else [].

Lemma sc_list_shape (t : list nat) (m q : nat) (mk : list bool) :
  (m < v)%nat -> (q <= m)%nat -> In mk (all_masks (n - 1)) -> In t (sc_list m q mk) ->
  case_shape M t q m mk (sc_S W q m mk) /\ correct M t.
Proof.
  intros Hm Hq Hmk Ht. unfold sc_list in Ht.
  destruct (valid_key q m mk) eqn:Hkey; [|destruct Ht].
  destruct (sc_case_test _ _ _ _ _ q m mk) eqn:Hok; [|destruct Ht]. simpl in Ht.
  pose proof (all_masks_length M Hn Hdh _ _ Hmk) as Hlen.
  split.
  - apply (product_choices_shape M Hn Hdh); try assumption. apply sc_S_lt.
  - apply (sc_case_sound t q m mk Hm Hq Hlen Hkey Hok Ht).
Qed.

Lemma in_sc_witness (t : list nat) :
  In t sc_witness_list -> exists m q mk, (m < v)%nat /\ (q <= m)%nat /\ In mk (all_masks (n - 1)) /\
    In t (sc_list m q mk).
Proof.
  unfold sc_witness_list. destruct (covered W); [|intros []].
  intros H. apply in_flat_map in H as [m [Hm H]]. apply in_flat_map in H as [q [Hq H]].
  apply in_flat_map in H as [mk [Hmk H]]. apply in_seq in Hm, Hq.
  exists m, q, mk. repeat split; try lia; assumption.
Qed.

Theorem sc_witness_correct (t : list nat) : In t sc_witness_list -> valid_seq M t /\ correct M t.
Proof.
  intros H. apply in_sc_witness in H as [m [q [mk [Hm [Hq [Hmk Ht]]]]]].
  destruct (sc_list_shape t m q mk Hm Hq Hmk Ht) as [Hs Hc].
  split; [apply (shape_valid _ _ _ _ _ _ Hs) | exact Hc].
Qed.

Lemma sc_list_NoDup (m q : nat) (mk : list bool) : NoDup (sc_list m q mk).
Proof.
  unfold sc_list. destruct (_ && _); [|constructor].
  apply NoDup_product. unfold choices. apply Forall_app. split.
  - apply Forall_forall. intros c Hc. apply in_map_iff in Hc as [b [<- _]].
    destruct b; [apply sc_S_NoDup | constructor; [simpl; tauto | constructor]].
  - constructor; [constructor; [simpl; tauto | constructor] | constructor].
Qed.

Theorem sc_witness_NoDup : NoDup sc_witness_list.
Proof.
  unfold sc_witness_list. destruct (covered W); [|constructor].
  apply (NoDup_flat_map_keyed _ (@list_max)); [apply seq_NoDup| |].
  - intros m Hm. apply in_seq in Hm.
    apply (NoDup_flat_map_keyed _ (query M)); [apply seq_NoDup| |].
    + intros q Hq. apply in_seq in Hq.
      apply (NoDup_flat_map_keyed _ (key_of M)); [apply all_masks_NoDup| |].
      * intros mk _. apply sc_list_NoDup.
      * intros mk t Hmk Ht. destruct (sc_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
        unfold key_of. rewrite (shape_max _ _ _ _ _ _ Hs). apply (shape_mask _ _ _ _ _ _ Hs).
    + intros q t Hq Ht. apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
      destruct (sc_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
      apply (shape_query _ _ _ _ _ _ Hs).
  - intros m t Hm Ht. apply in_seq in Hm. apply in_flat_map in Ht as [q [Hq Ht]].
    apply in_seq in Hq. apply in_flat_map in Ht as [mk [Hmk Ht]].
    destruct (sc_list_shape t m q mk ltac:(lia) ltac:(lia) Hmk Ht) as [Hs _].
    apply (shape_max _ _ _ _ _ _ Hs).
Qed.

Theorem sc_witness_length : length sc_witness_list = N.to_nat (subcubic_count M IP W).
Proof.
  unfold sc_witness_list, sc_list, subcubic_count. destruct (covered W); [|reflexivity]. cbv zeta.
  generalize Huok. destruct (centre M W) as [ce|]; intros Hu; [rewrite Hu|]; cbn [negb];
  (rewrite N2Nat_sum, length_flat_map; apply sum_ext; intros m Hm; apply in_seq in Hm;
   rewrite N2Nat_sum, length_flat_map; apply sum_ext; intros q Hq; apply in_seq in Hq;
   rewrite qds_nth by lia; rewrite N2Nat_sum, length_flat_map;
   apply sum_ext; intros mk _; unfold sc_case_count;
   destruct (_ && _); [|reflexivity]; rewrite length_product, prodN_correct; reflexivity).
Qed.

End SubcubicSound.

(** ** The whole subcubic check of a claim [N] and its soundness *)

Theorem subcubic_sound (M : model) (W : sc_witness) (N : N) :
  subcubic_check M W N = true -> certified_accuracy M (N.to_nat N).
Proof.
  intros H. unfold subcubic_check in H.
  destruct (run_check_inputs M _ N H) as (Hwf & IP & L & Hn & Hdh & HIP & HL & HN).
  cbv beta in HN. split; [exact Hwf|].
  assert (Hcases : (match centre M W with Some _ => urange_ok M (iU M) = true | None => True end)
                   \/ subcubic_count M IP W = 0%N).
  { unfold subcubic_count. destruct (covered W); [|right; reflexivity]. cbv zeta.
    destruct (centre M W); [|left; exact I].
    destruct (urange_ok M (iU M)); [left; reflexivity | right; reflexivity]. }
  destruct Hcases as [Huok|H0].
  - exists (sc_witness_list M IP W).
    split; [apply sc_witness_NoDup; assumption|]. split.
    + rewrite sc_witness_length by assumption. lia.
    + apply Forall_forall. intros t Ht. apply (sc_witness_correct M IP W Hn Hdh HIP Huok t Ht).
  - exists []. rewrite H0 in HN. split; [constructor|]. split; [simpl; lia | constructor].
Qed.
