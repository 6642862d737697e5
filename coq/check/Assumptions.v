(* Print the axioms every final theorem depends on; check_assumptions.sh compares them
   with the allowed list (the axioms of Coq's real-number library). *)
From CompactProofs Require Import Model Identity BruteForceSound CubicSound SubcubicSound CubicSharpSound RefineSound.
From CompactProofs.Instances Require Import Tiny_brute Tiny_refine Showcase_cubic Showcase_refine Showcase_subcubic_best
  Showcase_subcubic_default K5_cubic Tiny_cubic_sharp.
Print Assumptions wins_iff_unnormalised_neg.
Print Assumptions brute_force_sound.
Print Assumptions cubic_sound.
Print Assumptions subcubic_sound.
Print Assumptions cubic_sharp_sound.
Print Assumptions refine_sound.
Print Assumptions Tiny_brute_accuracy.
Print Assumptions Tiny_refine_accuracy.
Print Assumptions Showcase_cubic_accuracy.
Print Assumptions Showcase_refine_accuracy.
Print Assumptions Showcase_subcubic_best_accuracy.
Print Assumptions Showcase_subcubic_default_accuracy.
Print Assumptions K5_cubic_accuracy.
Print Assumptions Tiny_cubic_sharp_accuracy.
