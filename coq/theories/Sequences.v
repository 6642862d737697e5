(** * Enumerating {0..v-1}^n without duplicates *)

From Coq Require Import List Lia.
From CompactProofs Require Import Product.
Import ListNotations.

Fixpoint all_seqs (v n : nat) : list (list nat) :=
  match n with
  | O => [[]]
  | S k => flat_map (fun a => map (cons a) (all_seqs v k)) (seq 0 v)
  end.

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
