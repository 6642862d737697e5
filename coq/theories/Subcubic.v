(** * The subcubic checker (docs/proofs/subcubic.md)

    It reads the certificate's knobs and witness ([sc_witness]: the gaps g(q,m,c), for
    attention = mean+diff the mean attentions abar[m][c], for svd_query+max_diff the centre) and counts the sequences of the
    certified cases.  A case is keyed by (max m, query q <= m, mask of the non-query positions
    holding a value below m) as in Cubic.v; with c = (ones of the mask) + (1 if q < m) and
    top = m - g(q,m,c), it covers the sequences of that key whose non-max tokens are all
    <= top: (top + 1)^c' of them (c' = ones of the mask).  Summed over the C(n-1, c') masks
    with c' ones, that is the count of subcubic.md section 1.

    The test of a case (c >= 1) follows subcubic.md sections 2, 3 and 5:
    - sections 2 and 4: the attention A on the max copies lies in [a_lo, a_hi], from an interval
      [ratio] containing exp(EQKE[q,k] / sqrt d_head) / exp(EQKE[q,m] / sqrt d_head) for every
      k <= top and the position weights exp(EQKP[q,p] / sqrt d_head) of the mask's arrangement;
      [ratio] is (hull of exp(E~[q,k] / sqrt d_head) over k <= top) / exp(E~[q,m] / sqrt d_head),
      times exp([-eps[q], eps[q]] / sqrt d_head) in the max_diff mode (E~ = (E_q a)(E b)^T from
      the witness, eps[q] accepted by the (RD) test of SubcubicError.v) and with E~ = EQKE,
      eps = 0 in the exact-EQKE mode;
    - section 3: at both ends a of [a_lo, a_hi],
        dterm + f_m(abar) + (1 - a) W + (a - abar) R < 0  for R = R_max and R = R_min,
      (the mean+diff correction, both signs; abar = 0 for per-query);
    - section 5: EUPU[q,x] - EUPU[q,m] <= mu[x] - mu[m] + dterm[q][m] for every x != m
      (max_diff_exact: mu = 0, the largest other entry of row q minus EUPU[q,m];
      global_max_diff_exact: mu = 0, the largest row range of EUPU; mean_query+max_diff,
      svd_query+max_diff, max_diff: mu = c U for the centre c (floor-mean of the rows of E_q,
      the witness's vector, 0) and dterm[q][m] = sum_l |E_q[q,l] - c_l| range(U[l])).
    The c = 0 case (q = m, every token m, A = 1) is certified when dterm + f_m(1) < 0.

    Differences from the Python checker (checker/strategies/subcubic*.py), none of which can
    certify more than the argument allows: quantities are intervals of the Interval library
    (64-bit bounds, outward rounding) instead of exact dyadics rounded to 2^-32; every
    arrangement (mask) is tested on its own instead of the two extreme arrangements of
    section 2; the test at an end a is written as two sign tests, one per R, where Python
    picks the one of phi(a - abar).  Knob values whose lemmas are not proved in Coq
    ([covered] false) give the count 0: the checker accepts no positive claim for them.
    Soundness: SubcubicSound.v. *)

From Coq Require Import Reals ZArith NArith List Lia Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Enclosure IMatrix ZMatrix IPaths ZLogit Frame Product Cubic
  SubcubicError.
Import ListNotations.

(** ** The knobs and the witness (certificates/FORMAT.md, docs/proofs/subcubic.md section 7) *)

Inductive direct_mode :=
  DP_mean_query | DP_svd_query | DP_max_diff | DP_max_diff_exact | DP_global_max_diff_exact.

Inductive attention_mode := AT_mean_diff | AT_per_query.

Inductive error_mode :=
  ER_svd | ER_max_diff | ER_mean_max_diff | ER_max_diff_subproduct | ER_mean_max_diff_subproduct
| ER_max_diff_subproduct_recursive | ER_mean_max_diff_subproduct_recursive
| ER_mean_recursive_max_diff_subproduct_recursive | ER_max_diff_exact | ER_exact_EQKE.

(** The knobs and the witness fields the covered knob values read: [w_gaps] is gaps[q][m][c],
    [w_abar] is abar[m][c] (mantissas over 2 ^ [w_abar_exp]), then the centre, the rank-one
    vectors and the claimed eps, as in the certificate. *)
Record sc_witness := mk_sc_witness {
  w_direct : direct_mode;
  w_attention : attention_mode;
  w_error : error_mode;
  w_gaps : list (list (list Z));
  w_abar_exp : Z;
  w_abar : list (list Z);
  w_dp_centre_exp : Z;      (* svd_query+max_diff: the centre (d mantissas), else unused *)
  w_dp_centre : list Z;
  w_rank_exp : Z;           (* max_diff: rank_one a, b (d mantissas each), else unused *)
  w_rank_a : list Z;
  w_rank_b : list Z;
  w_eps_exp : Z;            (* max_diff: the claimed eps[q] (v mantissas), else unused *)
  w_eps : list Z
}.

(** The knob values proved sound in SubcubicSound.v: every direct-path mode, both attention
    modes, the exact-EQKE and max_diff error modes. *)
Definition covered (W : sc_witness) : bool :=
  match w_direct W, w_error W with
  | _, ER_exact_EQKE | _, ER_max_diff => true
  | _, _ => false
  end.

Section Subcubic.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices *)
Variable W : sc_witness.

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).

Definition one : I.type := I.fromZ prec 1.

(** ** Section 5: the direct path *)

(** max_diff_exact: hull of EUPU[q,x] over x != m, minus EUPU[q,m]. *)
Definition dterm_exact (q m : nat) : I.type :=
  I.sub prec (ijoin (fun x => iget (pEUPU IP) q x) (others M m)) (iget (pEUPU IP) q m).

(** global_max_diff_exact: the hull over q of (hull of row q) - (hull of row q). *)
Definition dterm_global : I.type :=
  ijoin (fun q => let H := ijoin (fun x => iget (pEUPU IP) q x) (seq 0 v) in I.sub prec H H) (seq 0 v).

(** The centred modes: a centre c (mantissas, exponent) -- the floor-mean of the rows of E_q
    (mean_query), the witness's vector (svd_query) or 0 (max_diff); any centre is sound.
    EUPU[q,x] - EUPU[q,m] <= mu[x] - mu[m] + delta_q with mu = c U and
    delta_q = sum_l |E_q[q,l] - c_l| range(U[l]). *)
Definition floor_mean (A : tensor) (r c : nat) : list Z :=
  map (fun l => Z.div (zsum r (fun i => zget (mantissas A) i l)) (Z.of_nat r)) (seq 0 c).

Definition centre : option (list Z * Z) :=
  match w_direct W with
  | DP_mean_query => Some (floor_mean (zE_q M) v (d_model M), exponent (zE_q M))
  | DP_svd_query => Some (w_dp_centre W, w_dp_centre_exp W)
  | DP_max_diff => Some (repeat 0%Z (d_model M), 0%Z)
  | _ => None
  end.

Definition ci (ce : list Z * Z) (l : nat) : I.type := iround (nth l (fst ce) 0%Z) (snd ce).

Definition iU : imatrix := ztoi (d_model M) v (W_U M).
Definition iEq : imatrix := ztoi v (d_model M) (zE_q M).

(** [mu x] for every x. *)
Definition mu_list (IU : imatrix) (ce : list Z * Z) : list I.type :=
  map (fun x => isum (d_model M) (fun l => I.mul prec (ci ce l) (iget IU l x))) (seq 0 v).

(** Row ranges of U: (hull of row l) - (hull of row l). *)
Definition urange (IU : imatrix) (l : nat) : I.type :=
  let H := ijoin (fun x => iget IU l x) (seq 0 v) in I.sub prec H H.

(** [IU], [IEq] are [iU], [iEq], passed as computed values (the kernel's machine does not
    remember the value of a global definition). *)
Definition delta_list (IU IEq : imatrix) (ce : list Z * Z) : list I.type :=
  let rs := map (fun l => top (urange IU l)) (seq 0 (d_model M)) in
  map (fun q => isum (d_model M) (fun l =>
         I.mul prec (I.abs (I.sub prec (iget IEq q l) (ci ce l))) (nth l rs I.nai))) (seq 0 v).

Definition urange_ok (IU : imatrix) : bool := forallb (fun l => has_top (urange IU l)) (seq 0 (d_model M)).

(** dterm[q][m]; [Dl] holds delta_q for the centred modes. *)
Definition dterm (G : I.type) (Dl : list I.type) (q m : nat) : I.type :=
  match w_direct W with
  | DP_global_max_diff_exact => G
  | DP_max_diff_exact => dterm_exact q m
  | _ => nth q Dl I.nai
  end.

(** mu[x] - mu[m] + PVOU*_m[x] (just PVOU*_m[x] when mu = 0: the exact modes). *)
Definition Lx (mu : option (list I.type)) (m x : nat) : I.type :=
  match mu with
  | None => pstar M IP m x
  | Some mus => I.add prec (I.sub prec (nth x mus I.nai) (nth m mus I.nai)) (pstar M IP m x)
  end.

(** ** Section 3: the logit side of one max m *)

(** E_m[x] = EVOU[m,x] - EVOU[m,m]. *)
Definition Em (m x : nat) : I.type := I.sub prec (iget (pEVOU IP) m x) (iget (pEVOU IP) m m).

(** max over x != m of EVOU[k,x] - EVOU[k,m]. *)
Definition worst (m k : nat) : I.type :=
  I.sub prec (ijoin (fun x => iget (pEVOU IP) k x) (others M m)) (iget (pEVOU IP) k m).

(** abar[m][c] from the witness (mean+diff), or 0 (per-query). *)
Definition abar_i (m c : nat) : I.type :=
  match w_attention W with
  | AT_per_query => I.zero
  | AT_mean_diff => iround (zget (w_abar W) m c) (w_abar_exp W)
  end.

Record mdata := mk_mdata {
  md_P : list I.type;     (* [x]: L_m[x] = mu[x] - mu[m] + PVOU*_m[x] ([Lx]) *)
  md_E : list I.type;     (* [x]: E_m[x] *)
  md_Eh : I.type;         (* hull of E_m[x] over x != m: R_min, R_max are its ends *)
  md_W : list I.type;     (* [top]: W for that top, the hull of worst m k over k <= top *)
  md_fbar : list I.type;  (* [c]: f_m(abar[m][c]), hull over x != m of PVOU*_m[x] + abar E_m[x] *)
  md_f1 : I.type          (* f_m(1) *)
}.

Definition mdata_of (mu : option (list I.type)) (m : nat) : mdata :=
  let P := map (Lx mu m) (seq 0 v) in
  let E := map (Em m) (seq 0 v) in
  mk_mdata P E
    (ijoin (fun x => nth x E I.nai) (others M m))
    (scan I.empty (map (worst m) (seq 0 m)))
    (map (fun c => ijoin (fun x => I.add prec (top (nth x P I.nai)) (I.mul prec (abar_i m c) (nth x E I.nai)))
                         (others M m)) (seq 0 n))
    (ijoin (fun x => I.add prec (top (nth x P I.nai)) (nth x E I.nai)) (others M m)).

(** Every L_m[x] (x != m) has a finite upper end. *)
Definition md_ok (m : nat) (md : mdata) : bool :=
  forallb (fun x => has_top (nth x (md_P md) I.nai)) (others M m).

(** ** Section 2: the query side of one query q *)

Record qdata := mk_qdata {
  qd_pi : list I.type;    (* [p]: exp(EQKP[q,p] / sqrt d_head) *)
  qd_e : list I.type;     (* [k]: exp(E~[q,k] / sqrt d_head) (E~ = EQKE in the exact mode) *)
  qd_hull : list I.type;  (* [top]: the hull of qd_e[k] over k <= top *)
  qd_F : option I.type;   (* max_diff: exp(delta / sqrt d_head) for |delta| <= eps[q] *)
  qd_ok : bool            (* max_diff: eps[q] is accepted *)
}.

Definition qdata_of (TE TPI : imatrix) (Fs : list (option I.type)) (oks : list bool) (q : nat) : qdata :=
  let er := map (iget TE q) (seq 0 v) in
  mk_qdata (nth q TPI []) er (scan I.empty er) (nth q Fs None) (nth q oks true).

(** An interval containing exp(EQKE[q,k] / sqrt d_head) / exp(EQKE[q,m] / sqrt d_head) for every
    k <= top (section 2 with section 4's bound on the score differences). *)
Definition ratio (qd : qdata) (t m : nat) : I.type :=
  let R := I.div prec (nth t (qd_hull qd) I.nai) (nth m (qd_e qd) I.nai) in
  match qd_F qd with None => R | Some F => I.mul prec R F end.

(** The max_diff mode (section 4): the table exp(E~[q,k] / sqrt d_head) with
    E~[q,k] = (E_q a)[q] (E b)[k], the factors exp(delta / sqrt d_head), |delta| <= eps[q], and
    whether eps[q] passes the (RD) test at one of the two split points. *)
Definition approx_data : imatrix * list (option I.type) * list bool :=
  let a := w_rank_a W in let b := w_rank_b W in let e := w_rank_exp W in
  let d := d_model M in
  let L1 := iL1 M in let L2 := iL2 M a b e in
  let R1s := rr_list (iR1 M a b e) d v in let R2s := rr_list (iR2 M) d v in
  let iE := ztoi v d (W_E M) in
  let alphas := map (fun q => isum d (fun l => I.mul prec (iget L1 q l) (iround (nth l a 0%Z) e))) (seq 0 v) in
  let betas := map (fun k => isum d (fun l => I.mul prec (iget iE k l) (iround (nth l b 0%Z) e))) (seq 0 v) in
  let rs := inv_sqrt (d_head M) in
  let TEA := build v v (fun q k =>
               I.exp prec (I.mul prec (I.mul prec (nth q alphas I.nai) (nth k betas I.nai)) rs)) in
  let epss := map (fun q => iround (nth q (w_eps W) 0%Z) (w_eps_exp W)) (seq 0 v) in
  let Fs := map (fun q => let ei := nth q epss I.nai in
                   Some (I.exp prec (I.mul prec (Float.Ibnd (I.lower (I.neg ei)) (I.upper ei)) rs))) (seq 0 v) in
  let oks := map (fun q => let ei := nth q epss I.nai in
                   eps_ok L1 R1s L2 R2s d q ei && has_bot (I.neg ei) && has_top ei) (seq 0 v) in
  (TEA, Fs, oks).

(** Position p holds the max in every sequence of the key (q, m, mask). *)
Definition ismax (q m : nat) (mask : list bool) (p : nat) : bool :=
  if Nat.ltb p (n - 1) then negb (nth p mask false) else Nat.eqb q m.

Definition wsum (pis : list I.type) (sel : nat -> bool) : I.type :=
  isum n (fun p => if sel p then nth p pis I.nai else I.zero).

(** ** Section 1: the cases *)

Definition case_c (q m : nat) (mask : list bool) : nat :=
  (count_true mask + (if Nat.eqb q m then 0 else 1))%nat.

Definition gap (q m c : nat) : Z := nth c (nth m (nth q (w_gaps W) []) []) 0%Z.

(** top = m - gap when the case covers something: gap >= 1 (so top < m), top >= 0, and the
    query, when it is not the max, is <= top. *)
Definition top_of (q m c : nat) : option nat :=
  let g := gap q m c in
  let t := (Z.of_nat m - g)%Z in
  if (1 <=? g)%Z && (0 <=? t)%Z && (Nat.eqb q m || (Z.of_nat q <=? t)%Z) then Some (Z.to_nat t) else None.

(** The values allowed at the non-max non-query positions: {0, ..., top}. *)
Definition sc_S (q m : nat) (mask : list bool) : list nat :=
  match top_of q m (case_c q m mask) with Some t => seq 0 (S t) | None => [] end.

(** Section 3's test at one end [a] of the attention interval, for both signs of a - abar. *)
Definition endpoint_ok (D F Wt Eh ab a : I.type) : bool :=
  let base := I.add prec (I.add prec (top D) (top F)) (I.mul prec (I.sub prec one a) (top Wt)) in
  is_negative (I.add prec base (I.mul prec (I.sub prec a ab) (top Eh))) &&
  is_negative (I.add prec base (I.mul prec (I.sub prec a ab) (bot Eh))).

(** The test of the case (q, m, mask); [D] is dterm[q][m]. *)
Definition sc_case_test (md : mdata) (qd : qdata) (D : I.type) (q m : nat) (mask : list bool) : bool :=
  let c := case_c q m mask in
  md_ok m md && has_top D &&
  if Nat.eqb c 0 then has_top (md_f1 md) && is_negative (I.add prec (top D) (top (md_f1 md)))
  else match top_of q m c with
  | None => false
  | Some t =>
    let r := ratio qd t m in
    let X := wsum (qd_pi qd) (ismax q m mask) in
    let Y := wsum (qd_pi qd) (fun p => negb (ismax q m mask p)) in
    let den_lo := I.add prec X (I.mul prec (top r) Y) in
    let den_hi := I.add prec X (I.mul prec (bot r) Y) in
    let alo := I.div prec X den_lo in
    let ahi := I.div prec X den_hi in
    let Wt := nth t (md_W md) I.nai in
    let F := nth c (md_fbar md) I.nai in
    let ab := abar_i m c in
    qd_ok qd && has_top r && has_bot r &&
    is_negative (I.sub prec I.zero den_lo) && is_negative (I.sub prec I.zero den_hi) &&
    has_bot alo && has_top ahi && has_top F && has_top Wt && has_top (md_Eh md) && has_bot (md_Eh md) &&
    endpoint_ok D F Wt (md_Eh md) ab (bot alo) && endpoint_ok D F Wt (md_Eh md) ab (top ahi)
  end.

Definition sc_case_count (md : mdata) (qd : qdata) (D : I.type) (q m : nat) (mask : list bool) : N :=
  if valid_key q m mask && sc_case_test md qd D q m mask then prodN (choices q m mask (sc_S q m mask)) else 0%N.

(** ** The count *)

Definition subcubic_count : N :=
  if covered W then
    let TD := match w_error W with ER_max_diff => approx_data | _ => (te M IP, [], []) end in
    let TE := fst (fst TD) in let Fs := snd (fst TD) in let oks := snd TD in
    let TPI := tpi M IP in
    let G := match w_direct W with DP_global_max_diff_exact => dterm_global | _ => I.zero end in
    let cen := centre in
    let IU := iU in let IEq := iEq in
    let mu := match cen with Some ce => Some (mu_list IU ce) | None => None end in
    let Dl := match cen with Some ce => delta_list IU IEq ce | None => [] end in
    let uok := match cen with Some _ => urange_ok IU | None => true end in
    let qds := map (qdata_of TE TPI Fs oks) (seq 0 v) in
    if negb uok then 0%N else
    fold_right N.add 0%N (map (fun m =>
      let md := mdata_of mu m in
      fold_right N.add 0%N (map (fun q =>
        let qd := nth q qds (mk_qdata [] [] [] None true) in
        let D := dterm G Dl q m in
        fold_right N.add 0%N (map (sc_case_count md qd D q m) (all_masks (n - 1))))
      (seq 0 (S m)))) (seq 0 v))
  else 0%N.

End Subcubic.

(** ** The whole subcubic check of a claim [N] with witness [W] *)

Definition subcubic_check (M : model) (W : sc_witness) (N : N) : bool :=
  run_check M (fun IP _ => subcubic_count M IP W) N.
