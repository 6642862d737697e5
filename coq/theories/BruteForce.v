(** * The brute-force checker

    Every sequence of {0..v-1}^n is decided on its own (SingleSequence.v); the checker
    accepts a claim N when at least N sequences are accepted.  Soundness: BruteForceSound.v. *)

From Coq Require Import Reals ZArith NArith List.
From CompactProofs Require Import Model IPaths ZLogit Frame Sequences SingleSequence.

(** The whole brute-force check of a claim [N]: the number of accepted sequences reaches it. *)
Definition brute_force_check (M : model) (N : N) : bool :=
  run_check M (fun IP L => N.of_nat (length (filter (decide_seq M IP L) (all_seqs (d_vocab M) (n_ctx M))))) N.
