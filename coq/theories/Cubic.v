(** * The cubic checker (docs/proofs/cubic.md) and its soundness theorem

    Cases are keyed by (m, q, mask): the max m, the query q <= m, and which of the
    n-1 non-query positions hold a value below m.  For a key with c >= 1 non-max
    positions, a set S of values below m is chosen (heuristically: the values k whose
    "pure" case passes the test), and the case covers every sequence with that key whose
    non-max values all lie in S: |S|^c sequences.  The case is certified by one interval
    test on pessimised quantities (PVOU*, R_m, D_m, the weights exp(EQKE/sqrt d_head) and
    exp(EQKP/sqrt d_head)); the mixing argument of cubic.md section 4 is the hull [JS] of
    the pessimised values over S.  The c = 0 cases are single sequences, decided exactly as
    in the brute-force checker.  The checker's count is the number of sequences in the
    certified cases.  The soundness proof is CubicSound.v. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence.
Import ListNotations.
Open Scope R_scope.

Section Cubic.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).

(** ** Tables *)

(** te[q][t] encloses exp(EQKE[q,t] / sqrt d_head); tpi[q][p] encloses exp(EQKP[q,p] / sqrt d_head). *)
Definition exp_table (r c : nat) (A : imatrix) : imatrix :=
  build r c (fun i j => I.exp prec (I.mul prec (iget A i j) (inv_sqrt (d_head M)))).
Definition te : imatrix := exp_table v v (pEQKE IP).
Definition tpi : imatrix := exp_table v n (pEQKP IP).

Definition others (m : nat) : list nat := filter (fun x => negb (Nat.eqb x m)) (seq 0 v).

(** PVOU*_m[x]: hull over positions of PVOU[p,x] - PVOU[p,m]. *)
Definition pstar (m x : nat) : I.type :=
  ijoin (fun p => I.sub prec (iget (pPVOU IP) p x) (iget (pPVOU IP) p m)) (seq 0 n).

(** ghat_row TE m: for every (q, t) with q, t <= m (the only ones a sequence with max m
    has), an interval containing exp(EQKE[q,t]/sqrt d_head) * G for every x != m and
    position p, with G = dU(q,x) + (dV(t,x) + dP(p,x)).  The hulls over x are taken before
    subtracting the (x-independent) column m. *)
Definition ghat_row (TE : imatrix) (m : nat) : imatrix :=
  let P := map (pstar m) (seq 0 v) in
  let R := map (fun t => I.sub prec
             (ijoin (fun x => I.add prec (iget (pEVOU IP) t x) (nth x P I.nai)) (others m))
             (iget (pEVOU IP) t m)) (seq 0 (S m)) in
  let D := map (fun q => I.sub prec
             (ijoin (fun x => iget (pEUPU IP) q x) (others m))
             (iget (pEUPU IP) q m)) (seq 0 (S m)) in
  build (S m) (S m) (fun q t => I.mul prec (I.add prec (nth q D I.nai) (nth t R I.nai)) (iget TE q t)).

(** ** The test of one case *)

(** Upper bound of sum_p pi(p) * (bound of position p): mask positions get [rS], the other
    non-query positions [rm], the query position [rq]. *)
Definition lam (tq : list I.type) (mask : list bool) (rS rm rq : I.type) : I.type :=
  I.add prec
    (isum (n - 1) (fun p => I.mul prec (nth p tq I.nai) (if nth p mask false then rS else rm)))
    (I.mul prec (nth (n - 1) tq I.nai) rq).

Fixpoint count_true (l : list bool) : nat :=
  match l with [] => 0 | b :: l' => (if b then 1 else 0) + count_true l' end%nat.

Definition all_masks (k : nat) : list (list bool) := product (repeat [false; true] k).

Definition masks_with (c : nat) : list (list bool) :=
  filter (fun mk => Nat.eqb (count_true mk) c) (all_masks (n - 1)).

(** Total weight of the non-query positions whose mask bit is [sel]. *)
Definition ysum (tq : list I.type) (mask : list bool) (sel : bool) : I.type :=
  isum (n - 1) (fun p => if Bool.eqb (nth p mask false) sel then nth p tq I.nai else I.zero).

(** [below a b]: the float [a] is certainly below the float [b] (false for NaNs). *)
Definition below (a b : F.type) : bool := match F.cmp a b with Xlt => true | _ => false end.

(** Heuristic choice of S (soundness never depends on it: case_test re-checks the hull
    over S): the values k < m whose pure case passes for every arrangement of the c
    non-max positions, i.e. base + Y * ghat(k) < 0 for every mask with c ones.  As
    Y > 0, that is ghat(k) < -base / Y: one threshold per (q, m, c), the least lower
    end of -base / Y over the masks, and one float comparison per k. *)
Definition choose_S (tq : list I.type) (G : imatrix) (q m c : nat) : list nat :=
  match c with
  | O => []
  | _ =>
    let rm := top (iget G q m) in
    let rq := top (iget G q q) in
    let ths := map (fun mk =>
        I.lower (I.div prec (I.neg (I.add prec (I.mul prec (nth (n - 1) tq I.nai) rq)
                                               (I.mul prec (ysum tq mk false) rm)))
                     (ysum tq mk true))) (masks_with c) in
    match ths with
    | [] => []
    | th :: rest =>
      let theta := fold_left F.min rest th in
      filter (fun k => below (I.upper (iget G q k)) theta) (seq 0 m)
    end
  end.

(** The certified test of the case (m, q, mask) with value set S. *)
Definition case_test (tq : list I.type) (G : imatrix) (q m : nat) (mask : list bool) (Sv : list nat) : bool :=
  let JS := ijoin (fun k => iget G q k) Sv in
  has_top JS && has_top (iget G q m) && has_top (iget G q q) &&
  is_negative (lam tq mask (top JS) (top (iget G q m)) (top (iget G q q))).

(** The sequences of a case: position by position, the allowed tokens. *)
Definition choices (q m : nat) (mask : list bool) (Sv : list nat) : list (list nat) :=
  map (fun (b : bool) => if b then Sv else [m]) mask ++ [[q]].

(** Exact decision of one sequence: BruteForce.v's [decide_ws] (no pessimisation), with the
    weights taken from the tables: exp(s_p) = exp(EQKE[q,t_p]/sqrt d_head) * exp(EQKP[q,p]/sqrt d_head),
    computed once per sequence. *)
Definition decide_tab (tq : list I.type) (TE : imatrix) (t : list nat) : bool :=
  let q := query M t in
  decide_ws M L (map (fun p => I.mul prec (iget TE q (tok t p)) (nth p tq I.nai)) (seq 0 n)) t.

(** A c = 0 key is the single sequence (m, ..., m, q): first the pessimised test (n
    terms; [Sv] plays no part as no position is below m), then, if that fails, the exact
    decision (v n terms). *)
Definition case_ok (tq : list I.type) (TE G : imatrix) (q m : nat) (mask : list bool) (Sv : list nat) : bool :=
  if Nat.eqb (count_true mask) 0
  then (if case_test tq G q m mask [m] then true  (* a match, not orb: vm_compute is strict *)
        else forallb (decide_tab tq TE) (product (choices q m mask Sv)))
  else case_test tq G q m mask Sv.

Definition valid_key (q m : nat) (mask : list bool) : bool :=
  orb (Nat.eqb q m) (existsb negb mask).

Definition case_list (tq : list I.type) (TE G : imatrix) (q m : nat) (mask : list bool) (Sv : list nat)
  : list (list nat) :=
  if valid_key q m mask && case_ok tq TE G q m mask Sv then product (choices q m mask Sv) else [].

Definition prodN (cs : list (list nat)) : N :=
  fold_right (fun c acc => (N.of_nat (length c) * acc)%N) 1%N cs.

Definition case_count (tq : list I.type) (TE G : imatrix) (q m : nat) (mask : list bool) (Sv : list nat) : N :=
  if valid_key q m mask && case_ok tq TE G q m mask Sv then prodN (choices q m mask Sv) else 0%N.

Definition S_for (tq : list I.type) (G : imatrix) (q m : nat) (mask : list bool) : list nat :=
  nth (count_true mask) (map (fun c => choose_S tq G q m c) (seq 0 n)) [].

(** ** The count and the witness list *)

Definition count_mq (TPI TE G : imatrix) (m q : nat) : N :=
  let tq := nth q TPI [] in
  let Srow := map (fun c => choose_S tq G q m c) (seq 0 n) in
  fold_right N.add 0%N
    (map (fun mk => case_count tq TE G q m mk (nth (count_true mk) Srow [])) (all_masks (n - 1))).

Definition cubic_count : N :=
  let TE := te in
  let TPI := tpi in
  fold_right N.add 0%N (map (fun m =>
    let G := ghat_row TE m in
    fold_right N.add 0%N (map (count_mq TPI TE G m) (seq 0 (S m)))) (seq 0 v)).

End Cubic.

(** ** The whole cubic check of a claim [N] *)

Definition cubic_check (M : model) (N : N) : bool := run_check M (cubic_count M) N.

