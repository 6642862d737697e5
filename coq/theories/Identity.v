(** * The unnormalised form of a logit difference (semantics.md, "Useful identity")

    Because the softmax weights are positive and sum to one,
      logit(x) - logit(m) < 0  <->  sum_p exp(s_p) * h_p(x) < 0,
    with h_p(x) = (EUPU[q,x] - EUPU[q,m]) + (EVOU[t_p,x] - EVOU[t_p,m]) + (PVOU[p,x] - PVOU[p,m]). *)

From Coq Require Import Reals Lia Lra.
From CompactProofs Require Import Model Rsum.
Open Scope R_scope.

Section Identity.
Variable M : model.

Definition h (t : list nat) (m x p : nat) : R :=
  (EUPU M (query M t) x - EUPU M (query M t) m)
  + (EVOU M (tok t p) x - EVOU M (tok t p) m)
  + (PVOU M p x - PVOU M p m).

(** The unnormalised margin of competitor [x] against [m]. *)
Definition unnormalised (t : list nat) (m x : nat) : R :=
  rsum (n_ctx M) (fun p => exp (score M t p) * h t m x p).

Lemma partition_pos (t : list nat) :
  (0 < n_ctx M)%nat -> 0 < rsum (n_ctx M) (fun r => exp (score M t r)).
Proof. intros Hn. apply rsum_pos; [exact Hn | intros; apply exp_pos]. Qed.

Lemma logit_difference (t : list nat) (m x : nat) :
  (0 < n_ctx M)%nat ->
  logit M t x - logit M t m
  = unnormalised t m x / rsum (n_ctx M) (fun r => exp (score M t r)).
Proof.
  intros Hn. pose proof (partition_pos t Hn) as HZ.
  set (Z := rsum (n_ctx M) (fun r => exp (score M t r))) in *.
  unfold logit, unnormalised, h.
  assert (Hattn : rsum (n_ctx M) (attn M t) = 1).
  { unfold attn. rewrite (rsum_ext _ _ (fun p => exp (score M t p) * / Z))
      by (intros; reflexivity).
    rewrite rsum_scal_r. fold Z. field. lra. }
  unfold Rdiv. rewrite <- rsum_scal_r.
  rewrite (rsum_ext _ (fun i => exp (score M t i) *
     (EUPU M (query M t) x - EUPU M (query M t) m +
      (EVOU M (tok t i) x - EVOU M (tok t i) m) +
      (PVOU M i x - PVOU M i m)) * / Z)
     (fun i => attn M t i * (EUPU M (query M t) x - EUPU M (query M t) m)
             + (attn M t i * (EVOU M (tok t i) x + PVOU M i x)
                - attn M t i * (EVOU M (tok t i) m + PVOU M i m))))
    by (intros; unfold attn; fold Z; field; lra).
  rewrite rsum_plus.
  rewrite (rsum_ext _ (fun i => attn M t i * (EUPU M (query M t) x - EUPU M (query M t) m))
            (fun i => (EUPU M (query M t) x - EUPU M (query M t) m) * attn M t i))
    by (intros; ring).
  rewrite rsum_scal_l, Hattn.
  rewrite (rsum_ext _ (fun i => attn M t i * (EVOU M (tok t i) x + PVOU M i x) -
                                attn M t i * (EVOU M (tok t i) m + PVOU M i m))
            (fun i => attn M t i * (EVOU M (tok t i) x + PVOU M i x) +
                      (-1) * (attn M t i * (EVOU M (tok t i) m + PVOU M i m))))
    by (intros; ring).
  rewrite rsum_plus, rsum_scal_l. ring.
Qed.

(** The identity in the form the checkers use. *)
Theorem wins_iff_unnormalised_neg (t : list nat) (m x : nat) :
  (0 < n_ctx M)%nat ->
  (logit M t x < logit M t m <-> unnormalised t m x < 0).
Proof.
  intros Hn. pose proof (partition_pos t Hn) as HZ.
  pose proof (logit_difference t m x Hn) as Hd.
  split; intros H.
  - assert (Hq : unnormalised t m x / rsum (n_ctx M) (fun r => exp (score M t r)) < 0) by lra.
    unfold Rdiv in Hq.
    destruct (Rlt_or_le (unnormalised t m x) 0) as [Hl|Hl]; [exact Hl|].
    exfalso. assert (0 <= unnormalised t m x * / rsum (n_ctx M) (fun r => exp (score M t r))).
    { apply Rmult_le_pos; [exact Hl | left; apply Rinv_0_lt_compat; exact HZ]. }
    lra.
  - assert (unnormalised t m x / rsum (n_ctx M) (fun r => exp (score M t r)) < 0).
    { unfold Rdiv. rewrite <- (Rmult_0_l (/ rsum (n_ctx M) (fun r => exp (score M t r)))).
      apply Rmult_lt_compat_r; [apply Rinv_0_lt_compat; exact HZ | exact H]. }
    lra.
Qed.

End Identity.
