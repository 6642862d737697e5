(* Print the axioms every final theorem depends on; check_assumptions.sh compares them
   with the allowed list (the axioms of Coq's real-number library). *)
From CompactProofs Require Import Model Identity BruteForce.
From CompactProofs.Instances Require Import Tiny_brute.
Print Assumptions wins_iff_unnormalised_neg.
Print Assumptions brute_force_sound.
Print Assumptions Tiny_brute_accuracy.
