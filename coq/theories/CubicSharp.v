(** * The cubic-sharp checker (docs/proofs/cubic_sharp.md)

    Cases are keyed as in Cubic.v by (max m, query q <= m, mask of the non-query positions
    holding a value below m).  For a key with c >= 1 non-max positions the checker computes a
    set S# of values k < m and the case covers every sequence of that key whose non-max
    tokens all lie in S#: |S#|^c sequences.  k is in S# when, for every competitor x != m,

        F(x) + Y * e(q,k) * H_k(x) < 0                                        (the per-x test)

    where F(x) is the exact unnormalised contribution of the fixed positions (the query slot
    and the copies of m, each with its own weight exp(EQKE[q,t]/sqrt d) exp(EQKP[q,p]/sqrt d)
    and its own exact h_p(x)), Y the total position weight of the non-max positions,
    e(q,k) = exp(EQKE[q,k]/sqrt d_head) and H_k(x) = dU[q,x] + dV[k,x] + PVOU*[x] computed
    exactly in integers (PVOU*[x] = max_p (PVOU[p,x] - PVOU[p,m])).  This is Phi_N(k, x) < 0
    of cubic_sharp.md Lemma 2.1 with the fixed positions taken exactly (every arrangement N is
    its own case); mixing by linearity in each x (Lemma 2.2) is proved in
    CubicSharpSound.v.  The per-x test is established in two steps: x = k on its own (a value
    failing it is not in S#), then every x not in {m, k} at once through the hull of F over
    x != m and the integer bound D[q] + Rx[k] >= H_k(x) (Test 2 of cubic_sharp.md) or, where
    that fails, each x separately (Test 3, without a budget).
    A c = 0 key is the single sequence (m, ..., m, q), certified when F(x) < 0 for every
    x != m (exact in positions and x, as cubic.md Lemma 6.1).
    Quantities are intervals (Enclosure.v); integer quantities are rounded once ([iround]). *)

From Coq Require Import Reals ZArith NArith List Lia Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Enclosure IMatrix ZMatrix IPaths ZLogit Frame Product Cubic.
Import ListNotations.

(** A conjunction over a list that stops at the first false (the VM evaluates the arguments
    of [andb] eagerly, so [forallb] would not). *)
Fixpoint all_b {A} (f : A -> bool) (l : list A) : bool :=
  match l with [] => true | a :: l' => if f a then all_b f l' else false end.

(** [acc] plus the [f i], i < k, whose [sel i] is false. *)
Fixpoint isel (k : nat) (sel : nat -> bool) (f : nat -> I.type) (acc : I.type) : I.type :=
  match k with
  | O => acc
  | S k' => let a := isel k' sel f acc in if sel k' then a else I.add prec a (f k')
  end.

(** The largest of [f i] over [i] in [l] and [d]. *)
Definition zmaxl (f : nat -> Z) (l : list nat) (d : Z) : Z :=
  fold_left (fun acc i => Z.max acc (f i)) l d.

Section Sharp.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices (for the exp tables) *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).

(** ** Integer pessimisations for a max m (scale 2 ^ lexp L) *)

Definition dUz (q m x : nat) : Z := (zget (lU L) q x - zget (lU L) q m)%Z.
Definition dVz (t m x : nat) : Z := (zget (lV L) t x - zget (lV L) t m)%Z.
Definition dPz (p m x : nat) : Z := (zget (lP L) p x - zget (lP L) p m)%Z.

(** PVOU*_m[x] = max over positions of PVOU[p,x] - PVOU[p,m]. *)
Definition pstarz (m x : nat) : Z := zmaxl (fun p => dPz p m x) (seq 0 n) (dPz 0 m x).
Definition pstar_row (m : nat) : list Z := map (pstarz m) (seq 0 v).

(** H_k(x) = dU[q,x] + dV[k,x] + PVOU*[x], with [P] the row [pstar_row m]. *)
Definition hz (P : list Z) (q k m x : nat) : Z := (dUz q m x + dVz k m x + nth x P 0%Z)%Z.

(** The competitors other than m and k. *)
Definition excl (m k : nat) : list nat :=
  filter (fun x => negb (Nat.eqb x m) && negb (Nat.eqb x k)) (seq 0 v).

(** D[q] = max_{x != m} dU[q,x] and Rx[k] = max_{x not in {m,k}} (dV[k,x] + PVOU*[x]). *)
Definition dz (q m : nat) : Z := zmaxl (fun x => dUz q m x) (others M m) 0.
Definition rxz (P : list Z) (m k : nat) : Z := zmaxl (fun x => (dVz k m x + nth x P 0%Z)%Z) (excl m k) 0.
Definition rx_row (P : list Z) (m : nat) : list Z := map (rxz P m) (seq 0 m).

Definition iz (z : Z) : I.type := iround z (lexp L).

(** ** The fixed positions of a (m, q) pair *)

(** Row p (x = 0 .. v-1): the weight exp(s_p) of position p holding its fixed token (q at the
    query slot n-1, m elsewhere) times h_p(x) exactly, as an interval. *)
Definition fixed_tok (q m p : nat) : nat := if Nat.eqb p (n - 1) then q else m.

Definition trows (TE : imatrix) (tq : list I.type) (q m : nat) : list (list I.type) :=
  map (fun p =>
    let t := fixed_tok q m p in
    let w := I.mul prec (iget TE q t) (nth p tq I.nai) in
    map (fun x => I.mul prec w (iz (zh L q t m x p))) (seq 0 v)) (seq 0 n).

(** F(x) of a mask: the query slot plus the positions whose mask bit is false (one
    addition per such position). *)
Definition fval (Tr : list (list I.type)) (mask : list bool) (x : nat) : I.type :=
  isel (n - 1) (fun p => nth p mask false) (fun p => nth x (nth p Tr []) I.nai)
       (nth x (nth (n - 1) Tr []) I.nai).

(** Y: the total position weight of the non-max positions. *)
Definition yval (tq : list I.type) (mask : list bool) : I.type :=
  isum (n - 1) (fun p => if nth p mask false then nth p tq I.nai else I.zero).

(** [neg_at f y g]: every a in f, b in y, c in g have a + b c < 0. *)
Definition neg_at (f y g : I.type) : bool := is_negative (I.add prec f (I.mul prec y g)).

(** ** The decision of a case *)

(** The per-(m, q) data shared by the masks. *)
Record mq_data := mk_mq {
  mq_Tr : list (list I.type);   (* trows *)
  mq_gs : list I.type;          (* k < m: e(q,k) H_k(k) *)
  mq_gx : list I.type           (* k < m: e(q,k) (D[q] + Rx[k]) *)
}.

Definition mq_of (TE : imatrix) (tq : list I.type) (P RX : list Z) (q m : nat) : mq_data :=
  let d := dz q m in
  mk_mq (trows TE tq q m)
        (map (fun k => I.mul prec (iget TE q k) (iz (hz P q k m k))) (seq 0 m))
        (map (fun k => I.mul prec (iget TE q k) (iz (d + nth k RX 0%Z))) (seq 0 m)).

(** Is k in S# of the case: the per-x test for every x != m.  The test at x = k comes first
    (a value failing it is not in S#), then every x not in {m, k} at once, then, if that
    fails, each x (from the largest down: the competitors just below m fail most often). *)
Definition sharp_ok (TE : imatrix) (P : list Z) (D : mq_data) (Fl : list I.type) (Fmax Y : I.type)
    (q m k : nat) : bool :=
  if neg_at (nth k Fl I.nai) Y (nth k (mq_gs D) I.nai) then
    if neg_at Fmax Y (nth k (mq_gx D) I.nai) then true
    else all_b (fun x => neg_at (nth x Fl I.nai) Y (I.mul prec (iget TE q k) (iz (hz P q k m x))))
               (rev (others M m))
  else false.

(** (certified, S#) of the case (m, q, mask). *)
Definition sharp_case (TE : imatrix) (tq : list I.type) (P : list Z) (D : mq_data) (q m : nat)
    (mask : list bool) : bool * list nat :=
  let Fl := map (fval (mq_Tr D) mask) (seq 0 v) in
  if Nat.eqb (count_true mask) 0
  then (all_b (fun x => is_negative (nth x Fl I.nai)) (others M m), [])
  else
    let Fmax := ijoin (fun x => nth x Fl I.nai) (others M m) in
    let Y := yval tq mask in
    (true, filter (sharp_ok TE P D Fl Fmax Y q m) (seq 0 m)).

Definition sharp_list (TE : imatrix) (tq : list I.type) (P : list Z) (D : mq_data) (q m : nat)
    (mask : list bool) : list (list nat) :=
  if valid_key q m mask then
    let r := sharp_case TE tq P D q m mask in
    if fst r then product (choices q m mask (snd r)) else []
  else [].

Definition sharp_case_count (TE : imatrix) (tq : list I.type) (P : list Z) (D : mq_data) (q m : nat)
    (mask : list bool) : N :=
  if valid_key q m mask then
    let r := sharp_case TE tq P D q m mask in
    if fst r then prodN (choices q m mask (snd r)) else 0%N
  else 0%N.

(** ** The count *)

Definition sharp_count_mq (TE TPI : imatrix) (P RX : list Z) (m q : nat) : N :=
  let tq := nth q TPI [] in
  let D := mq_of TE tq P RX q m in
  fold_right N.add 0%N (map (sharp_case_count TE tq P D q m) (all_masks (n - 1))).

Definition sharp_count : N :=
  let TE := te M IP in
  let TPI := tpi M IP in
  fold_right N.add 0%N (map (fun m =>
    let P := pstar_row m in
    let RX := rx_row P m in
    fold_right N.add 0%N (map (sharp_count_mq TE TPI P RX m) (seq 0 (S m)))) (seq 0 v)).

End Sharp.

(** ** The whole cubic-sharp check of a claim [N] *)

Definition cubic_sharp_check (M : model) (N : N) : bool := run_check M (sharp_count M) N.
