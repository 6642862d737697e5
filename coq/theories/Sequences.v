(** * Enumerating {0..v-1}^n without duplicates *)

From Coq Require Import List Lia.
Import ListNotations.

Fixpoint all_seqs (v n : nat) : list (list nat) :=
  match n with
  | O => [[]]
  | S k => flat_map (fun a => map (cons a) (all_seqs v k)) (seq 0 v)
  end.

Lemma NoDup_app_disjoint {A} (l1 l2 : list A) :
  NoDup l1 -> NoDup l2 -> (forall x, In x l1 -> ~ In x l2) -> NoDup (l1 ++ l2).
Proof.
  induction l1 as [|a l1 IH]; intros H1 H2 Hd; simpl; [exact H2|].
  inversion H1 as [|? ? Hna Hnd]; subst. constructor.
  - rewrite in_app_iff. intros [H|H]; [contradiction|]. apply (Hd a); [left; reflexivity|exact H].
  - apply IH; [exact Hnd | exact H2 | intros x Hx; apply Hd; right; exact Hx].
Qed.

Lemma NoDup_map_cons {A} (a : A) (l : list (list A)) : NoDup l -> NoDup (map (cons a) l).
Proof.
  induction l as [|x l IH]; intros H; simpl; [constructor|].
  inversion H as [|? ? Hx Hl]; subst. constructor; [|apply IH; exact Hl].
  rewrite in_map_iff. intros [y [Hy Hin]]. injection Hy as ->. contradiction.
Qed.

Lemma NoDup_flat_map_heads (l : list nat) (L : list (list nat)) :
  NoDup l -> NoDup L -> NoDup (flat_map (fun a => map (cons a) L) l).
Proof.
  induction l as [|a l IH]; intros Hl HL; simpl; [constructor|].
  inversion Hl as [|? ? Ha Hl']; subst.
  apply NoDup_app_disjoint; [apply NoDup_map_cons; exact HL | apply IH; assumption|].
  intros x Hx Hx'. rewrite in_map_iff in Hx. destruct Hx as [y [<- _]].
  rewrite in_flat_map in Hx'. destruct Hx' as [b [Hb Hy]].
  rewrite in_map_iff in Hy. destruct Hy as [z [Hz _]]. injection Hz as -> _. contradiction.
Qed.

Theorem all_seqs_NoDup (v n : nat) : NoDup (all_seqs v n).
Proof.
  induction n as [|n IH]; simpl; [constructor; [simpl; tauto | constructor]|].
  apply NoDup_flat_map_heads; [apply seq_NoDup | exact IH].
Qed.

Theorem all_seqs_valid (v n : nat) (t : list nat) :
  In t (all_seqs v n) -> length t = n /\ Forall (fun a => a < v) t.
Proof.
  revert t. induction n as [|n IH]; intros t Ht; simpl in Ht.
  - destruct Ht as [<-|[]]. split; [reflexivity | constructor].
  - rewrite in_flat_map in Ht. destruct Ht as [a [Ha Ht]].
    rewrite in_map_iff in Ht. destruct Ht as [s [<- Hs]].
    apply in_seq in Ha. destruct (IH s Hs) as [Hlen Hall].
    split; [simpl; lia | constructor; [lia | exact Hall]].
Qed.
