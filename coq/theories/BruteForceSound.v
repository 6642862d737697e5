(** * Soundness of the brute-force checker (BruteForce.v)

    The accepted sequences, a sublist of the duplicate-free list of all sequences, are the
    witness list; each is correct by [decide_seq_sound] (SingleSequence.v). *)

From Coq Require Import Reals ZArith NArith List Lia.
From CompactProofs Require Import Model IPaths ZLogit Frame Sequences SingleSequence BruteForce.

Theorem brute_force_sound (M : model) (N : N) :
  brute_force_check M N = true -> certified_accuracy M (N.to_nat N).
Proof.
  intros H. destruct (run_check_inputs M _ N H) as (Hwf & IP & L & Hn & Hdh & HIP & HL & HN).
  split; [exact Hwf|].
  exists (filter (decide_seq M IP L) (all_seqs (d_vocab M) (n_ctx M))).
  split; [apply NoDup_filter, all_seqs_NoDup|]. split; [lia|].
  apply Forall_forall. intros t Ht. apply filter_In in Ht as [Hin Hdec].
  assert (Hv : valid_seq M t) by (apply all_seqs_valid; exact Hin).
  split; [exact Hv|]. eapply decide_seq_sound; eassumption.
Qed.
