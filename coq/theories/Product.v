(** * Cartesian products of lists, and counting duplicate-free unions

    Used by the cubic checker to name the sequences of one case explicitly
    (position by position: a list of allowed tokens) and to count them. *)

From Coq Require Import List Lia NArith.
Import ListNotations.

Fixpoint product {A} (cs : list (list A)) : list (list A) :=
  match cs with
  | [] => [[]]
  | c :: cs' => flat_map (fun a => map (cons a) (product cs')) c
  end.

Lemma in_product {A} (cs : list (list A)) (t : list A) :
  In t (product cs) <-> Forall2 (fun a c => In a c) t cs.
Proof.
  revert t. induction cs as [|c cs IH]; intros t; simpl.
  - split.
    + intros [<-|[]]. constructor.
    + intros H. inversion H. left. reflexivity.
  - rewrite in_flat_map. split.
    + intros [a [Ha Ht]]. rewrite in_map_iff in Ht. destruct Ht as [s [<- Hs]].
      constructor; [exact Ha | apply IH; exact Hs].
    + intros H. inversion H as [|a c' s cs' Ha Hs]; subst.
      exists a. split; [exact Ha|]. apply in_map. apply IH. exact Hs.
Qed.

Lemma NoDup_app_disj {A} (l1 l2 : list A) :
  NoDup l1 -> NoDup l2 -> (forall x, In x l1 -> ~ In x l2) -> NoDup (l1 ++ l2).
Proof.
  induction l1 as [|a l1 IH]; intros H1 H2 Hd; simpl; [exact H2|].
  inversion H1 as [|? ? Hna Hnd]; subst. constructor.
  - rewrite in_app_iff. intros [H|H]; [contradiction|]. apply (Hd a); [left; reflexivity|exact H].
  - apply IH; [exact Hnd | exact H2 | intros x Hx; apply Hd; right; exact Hx].
Qed.

(** A union of duplicate-free lists indexed by distinct keys is duplicate-free when
    every element determines its key. *)
Lemma NoDup_flat_map_keyed {K A} (f : K -> list A) (key : A -> K) (keys : list K) :
  NoDup keys -> (forall k, In k keys -> NoDup (f k)) ->
  (forall k a, In k keys -> In a (f k) -> key a = k) ->
  NoDup (flat_map f keys).
Proof.
  induction keys as [|k keys IH]; intros Hk Hf Hkey; simpl; [constructor|].
  inversion Hk as [|? ? Hnk Hks]; subst.
  apply NoDup_app_disj.
  - apply Hf. left. reflexivity.
  - apply IH; [exact Hks | intros; apply Hf; right; assumption | intros; apply Hkey; [right|]; assumption].
  - intros a Ha Ha'. rewrite in_flat_map in Ha'. destruct Ha' as [k' [Hk' Ha']].
    assert (key a = k) by (apply Hkey; [left; reflexivity | exact Ha]).
    assert (key a = k') by (apply Hkey; [right; exact Hk' | exact Ha']).
    subst. apply Hnk. congruence.
Qed.

Lemma NoDup_map_cons' {A} (a : A) (l : list (list A)) : NoDup l -> NoDup (map (cons a) l).
Proof.
  induction l as [|x l IH]; intros H; simpl; [constructor|].
  inversion H as [|? ? Hx Hl]; subst. constructor; [|apply IH; exact Hl].
  rewrite in_map_iff. intros [y [Hy Hin]]. injection Hy as ->. contradiction.
Qed.

Lemma NoDup_flat_map_heads {A} (l : list A) (L : list (list A)) :
  NoDup l -> NoDup L -> NoDup (flat_map (fun a => map (cons a) L) l).
Proof.
  induction l as [|a l IH]; intros Hl HL; simpl; [constructor|].
  inversion Hl as [|? ? Ha Hl']; subst.
  apply NoDup_app_disj; [apply NoDup_map_cons'; exact HL | apply IH; assumption|].
  intros x Hx Hx'. rewrite in_map_iff in Hx. destruct Hx as [y [<- _]].
  rewrite in_flat_map in Hx'. destruct Hx' as [b [Hb Hy]].
  rewrite in_map_iff in Hy. destruct Hy as [z [Hz _]]. injection Hz as -> _. contradiction.
Qed.

Lemma NoDup_product {A} (cs : list (list A)) : Forall (@NoDup A) cs -> NoDup (product cs).
Proof.
  induction cs as [|c cs IH]; intros H; simpl; [constructor; [simpl; tauto | constructor]|].
  inversion H as [|? ? Hc Hcs]; subst.
  apply NoDup_flat_map_heads; [exact Hc | apply IH; exact Hcs].
Qed.

Lemma length_flat_map_const {A B} (f : A -> list B) (k : nat) (l : list A) :
  (forall a, length (f a) = k) -> length (flat_map f l) = length l * k.
Proof.
  intros H. induction l as [|a l IH]; simpl; [reflexivity|].
  rewrite app_length, IH, H. reflexivity.
Qed.

Definition prod_lengths {A} (cs : list (list A)) : nat :=
  fold_right (fun c acc => length c * acc) 1 cs.

Lemma length_product {A} (cs : list (list A)) : length (product cs) = prod_lengths cs.
Proof.
  induction cs as [|c cs IH]; simpl; [reflexivity|].
  rewrite (length_flat_map_const _ (length (product cs))) by (intros; apply map_length).
  rewrite IH. reflexivity.
Qed.

Lemma length_flat_map {A B} (f : A -> list B) (l : list A) :
  length (flat_map f l) = fold_right (fun a acc => length (f a) + acc) 0 l.
Proof. induction l as [|a l IH]; simpl; [reflexivity|]. rewrite app_length, IH. reflexivity. Qed.
