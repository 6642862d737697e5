(** * The refine checker (docs/proofs/refine.md)

    The cases of the cubic split, refined where a plan says so.  A root case is keyed, as in
    Cubic.v, by (max m, query q <= m, mask of the non-query positions holding a value < m);
    the plan lists, per group (q, m), the numbers c of mask positions whose root cases are
    split, and for each split mask a tree [ptree] naming which nodes below it are split.
    A node is a template: per non-query position either a fixed token ([Some a]) or a free
    position ([None], a value < m); splitting a node fixes its first free position to each
    k < m in turn (refine.md Lemma 2.3).

    The walk starts from the root cases and enumerates the children itself; the plan is only
    asked "is this case split?" ([root_split], [mask_node], [pchild]), so no plan, valid or
    not, can make the count exceed what the leaves prove (no validation needed).

    Leaves:
    - a root case whose c is not split, or with c = 0: Cubic.v's case test ([case_count]);
    - a node with free positions that is not split: the node test ([node_S]; refine.md
      Theorem 3.3, per competitor, with one bound B(k, x) for every free position, so the free
      positions may hold different values), counting |S|^f sequences;
    - a node without free positions (split or not): decided exactly ([decide_tab], Cubic.v).

    The soundness proof is RefineSound.v. *)

From Coq Require Import Reals ZArith NArith List Lia Lra Bool.
From Interval Require Import Real.Xreal.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit
  Frame Sequences Product SingleSequence Cubic.
Import ListNotations.
Open Scope R_scope.

(** ** The plan *)

(** A split node: for each child value k that is itself split, its own tree. *)
Inductive ptree := PSplit : list (nat * ptree) -> ptree.

Fixpoint plookup (k : nat) (l : list (nat * ptree)) : option ptree :=
  match l with
  | [] => None
  | (k', tr) :: r => if Nat.eqb k k' then Some tr else plookup k r
  end.

Definition pchild (k : nat) (tr : ptree) : option ptree := match tr with PSplit l => plookup k l end.

(** The plan of one group (q, m): the split root cases (their c) and the split nodes directly
    below them (their mask, as in Cubic.v: one bool per non-query position). *)
Record gplan := mk_gplan { gq : nat; gm : nat; g_roots : list nat; g_nodes : list (list bool * ptree) }.

Definition plan := list gplan.

Fixpoint find_group (P : plan) (q m : nat) : option gplan :=
  match P with
  | [] => None
  | g :: r => if Nat.eqb (gq g) q && Nat.eqb (gm g) m then Some g else find_group r q m
  end.

Definition root_split (g : option gplan) (c : nat) : bool :=
  match g with None => false | Some g => existsb (Nat.eqb c) (g_roots g) end.

Fixpoint mask_eqb (a b : list bool) : bool :=
  match a, b with
  | [], [] => true
  | x :: a', y :: b' => Bool.eqb x y && mask_eqb a' b'
  | _, _ => false
  end.

Fixpoint mask_lookup (mk : list bool) (l : list (list bool * ptree)) : option ptree :=
  match l with
  | [] => None
  | (mk', tr) :: r => if mask_eqb mk mk' then Some tr else mask_lookup mk r
  end.

Definition mask_node (g : option gplan) (mk : list bool) : option ptree :=
  match g with None => None | Some g => mask_lookup mk (g_nodes g) end.

(** ** Templates *)

Definition tmpl0 (m : nat) (mask : list bool) : list (option nat) :=
  map (fun b : bool => if b then None else Some m) mask.

Definition is_free (o : option nat) : bool := match o with None => true | Some _ => false end.

Definition has_free (tmpl : list (option nat)) : bool := existsb is_free tmpl.

(** The template with its first free position fixed to [k]. *)
Fixpoint fix_first (tmpl : list (option nat)) (k : nat) : list (option nat) :=
  match tmpl with
  | [] => []
  | None :: r => Some k :: r
  | Some a :: r => Some a :: fix_first r k
  end.

(** Short-circuit conjunction over a list (vm_compute evaluates [andb]'s arguments first). *)
Fixpoint allb {A} (f : A -> bool) (l : list A) : bool :=
  match l with [] => true | a :: r => if f a then allb f r else false end.

Section Refine.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

Local Notation v := (d_vocab M).
Local Notation n := (n_ctx M).

Section Node.
Variable tq : list I.type.  (* row q of the table tpi: exp(EQKP[q,p]/sqrt d_head) *)
Variable TE : imatrix.       (* the table te: exp(EQKE[q,t]/sqrt d_head) *)
Variable G : imatrix.        (* ghat_row TE m (Cubic.v) *)
Variable q m : nat.

(** The template of all n positions: the query slot holds q. *)
Definition slot (tmpl : list (option nat)) (p : nat) : option nat := nth p (tmpl ++ [Some q]) None.

(** exp(s_p) h_p(x) at a fixed position p holding a: both weights from the tables, h exact. *)
Definition fterm (p a x : nat) : I.type :=
  I.mul prec (I.mul prec (iget TE q a) (nth p tq I.nai)) (iround (zh L q a m x p) (lexp L)).

(** Fixed positions' part of the unnormalised margin of competitor x (refine.md Lemma 3.1). *)
Definition fx (tmpl : list (option nat)) (x : nat) : I.type :=
  isum n (fun p => match slot tmpl p with Some a => fterm p a x | None => I.zero end).

(** The same part, for every competitor at once, through the pessimised G (Lemma 4.1). *)
Definition fs (tmpl : list (option nat)) : I.type :=
  isum n (fun p => match slot tmpl p with
                   | Some a => I.mul prec (nth p tq I.nai) (iget G q a) | None => I.zero end).

(** Y = sum over the free positions of exp(EQKP[q,p]/sqrt d_head). *)
Definition yw (tmpl : list (option nat)) : I.type :=
  isum n (fun p => match slot tmpl p with Some _ => I.zero | None => nth p tq I.nai end).

(** First test of a value k (shortcut, Lemma 4.2): with the pessimised bound G[q][k],
    fs + Y * top(G[q][k]) < 0. *)
Definition tier1 (F Y : I.type) (k : nat) : bool :=
  has_top (iget G q k) && is_negative (I.add prec F (I.mul prec Y (top (iget G q k)))).

(** dP_p[x] = PVOU[p,x] - PVOU[p,m] (integers at scale 2^lexp). *)
Definition dPz (p x : nat) : Z := (zget (lP L) p x - zget (lP L) p m)%Z.

Definition free_pos (tmpl : list (option nat)) : list nat :=
  filter (fun p => is_free (nth p tmpl None)) (seq 0 (n - 1)).

(** P*_W[x]: the largest dP_p[x] over the free positions W. *)
Definition zpstar (W : list nat) (x : nat) : Z :=
  match W with [] => 0%Z | p0 :: r => fold_right (fun p acc => Z.max (dPz p x) acc) (dPz p0 x) r end.

(** g_W(k)[x] = (dU[x] + dV_k[x] + P*_W[x]) exp(EQKE[q,k]/sqrt d_head) (Lemma 3.2). *)
Definition zg (ps : Z) (k x : nat) : Z :=
  ((zget (lU L) q x - zget (lU L) q m) + (zget (lV L) k x - zget (lV L) k m) + ps)%Z.

Definition gw (ps : Z) (k x : nat) : I.type := I.mul prec (iget TE q k) (iround (zg ps k x) (lexp L)).

(** Second test of a value k (the definition of S_node): for every competitor x != m,
    fx(x) + Y * top(g_W(k)[x]) < 0. *)
Definition tier2 (FX : list I.type) (PS : list Z) (Y : I.type) (k : nat) : bool :=
  allb (fun x => if Nat.eqb x m then true else
           let g := gw (nth x PS 0%Z) k x in
           if has_top g then is_negative (I.add prec (nth x FX I.nai) (I.mul prec Y (top g))) else false)
    (seq 0 v).

(** S_node: the values k < m passing the first test, the first test with fs replaced by the
    hull FJ of fx(x) over the competitors (Lemma 4.2's third shortcut: the largest fx(x)), or
    the second test. *)
Definition node_S (tmpl : list (option nat)) : list nat :=
  let F := fs tmpl in
  let Y := yw tmpl in
  if forallb (tier1 F Y) (seq 0 m) then seq 0 m
  else
    let FX := map (fx tmpl) (seq 0 v) in
    let FJ := ijoin (fun x => nth x FX I.nai) (others M m) in
    let PS := map (zpstar (free_pos tmpl)) (seq 0 v) in
    filter (fun k => if tier1 F Y k then true else if tier1 FJ Y k then true else tier2 FX PS Y k) (seq 0 m).

(** The sequences of a template: fixed positions their token, free ones a value of [Sv]. *)
Definition tchoices (tmpl : list (option nat)) (Sv : list nat) : list (list nat) :=
  map (fun o => match o with Some a => [a] | None => Sv end) tmpl ++ [[q]].

(** The one sequence of a template without free positions. *)
Definition tseq (tmpl : list (option nat)) : list nat :=
  map (fun o => match o with Some a => a | None => 0%nat end) tmpl ++ [q].

Definition decided_list (tmpl : list (option nat)) : list (list nat) :=
  if decide_tab M L tq TE (tseq tmpl) then [tseq tmpl] else [].

Definition decided_count (tmpl : list (option nat)) : N :=
  if decide_tab M L tq TE (tseq tmpl) then 1%N else 0%N.

Definition leaf_list (tmpl : list (option nat)) : list (list nat) :=
  if has_free tmpl then product (tchoices tmpl (node_S tmpl)) else decided_list tmpl.

Definition leaf_count (tmpl : list (option nat)) : N :=
  if has_free tmpl then prodN (tchoices tmpl (node_S tmpl)) else decided_count tmpl.

(** The walk below a node: [pt] is its plan ([None]: not split). *)
Fixpoint walk_list (fuel : nat) (tmpl : list (option nat)) (pt : option ptree) : list (list nat) :=
  match pt with
  | None => leaf_list tmpl
  | Some tr =>
    if has_free tmpl then
      match fuel with
      | O => []
      | S f => flat_map (fun k => walk_list f (fix_first tmpl k) (pchild k tr)) (seq 0 m)
      end
    else decided_list tmpl
  end.

Fixpoint walk_count (fuel : nat) (tmpl : list (option nat)) (pt : option ptree) : N :=
  match pt with
  | None => leaf_count tmpl
  | Some tr =>
    if has_free tmpl then
      match fuel with
      | O => 0%N
      | S f => fold_right N.add 0%N (map (fun k => walk_count f (fix_first tmpl k) (pchild k tr)) (seq 0 m))
      end
    else decided_count tmpl
  end.

(** One root mask of the group: Cubic.v's case (root not split, or c = 0), or the walk. *)
Definition mask_list (g : option gplan) (mk : list bool) (Sv : list nat) : list (list nat) :=
  if valid_key q m mk then
    if Nat.eqb (count_true mk) 0 || negb (root_split g (count_true mk))
    then case_list M L tq TE G q m mk Sv
    else walk_list n (tmpl0 m mk) (mask_node g mk)
  else [].

Definition mask_count (g : option gplan) (mk : list bool) (Sv : list nat) : N :=
  if valid_key q m mk then
    if Nat.eqb (count_true mk) 0 || negb (root_split g (count_true mk))
    then case_count M L tq TE G q m mk Sv
    else walk_count n (tmpl0 m mk) (mask_node g mk)
  else 0%N.

End Node.

(** ** The count *)

Definition refine_count_mq (P : plan) (TPI TE G : imatrix) (m q : nat) : N :=
  let tq := nth q TPI [] in
  let Srow := map (fun c => choose_S M tq G q m c) (seq 0 n) in
  let g := find_group P q m in
  fold_right N.add 0%N
    (map (fun mk => mask_count tq TE G q m g mk (nth (count_true mk) Srow [])) (all_masks (n - 1))).

Definition refine_count (P : plan) : N :=
  let TE := te M IP in
  let TPI := tpi M IP in
  fold_right N.add 0%N (map (fun m =>
    let G := ghat_row M IP TE m in
    fold_right N.add 0%N (map (refine_count_mq P TPI TE G m) (seq 0 (S m)))) (seq 0 v)).

End Refine.

(** ** The whole refine check of a claim [N] *)

Definition refine_check (M : model) (P : plan) (N : N) : bool :=
  run_check M (fun IP L => refine_count M IP L P) N.
