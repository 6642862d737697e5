(** * The brute-force checker and its soundness theorem

    For every sequence of {0..v-1}^n and every competitor x != max, enclose the
    unnormalised margin  sum_p exp(s_p) * h_p(x)  (Identity.v) by an interval and
    accept the sequence when the whole interval is negative.  The checker accepts a
    claim N when at least N sequences are accepted. *)

From Coq Require Import Reals ZArith NArith List Lia Lra.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix IPaths Sequences.
Open Scope R_scope.

Section Decide.
Variable M : model.
Variable IP : ipaths.

(** Interval of the score s_p = (EQKE[q,t_p] + EQKP[q,p]) / sqrt(d_head). *)
Definition iscore (t : list nat) (p : nat) : I.type :=
  I.mul prec (I.add prec (iget (pEQKE IP) (query M t) (tok t p)) (iget (pEQKP IP) (query M t) p))
        (inv_sqrt (d_head M)).

(** Interval of h_p(x) (Identity.v). *)
Definition ih (t : list nat) (m x p : nat) : I.type :=
  let q := query M t in
  I.add prec
    (I.add prec (I.sub prec (iget (pEUPU IP) q x) (iget (pEUPU IP) q m))
                (I.sub prec (iget (pEVOU IP) (tok t p) x) (iget (pEVOU IP) (tok t p) m)))
    (I.sub prec (iget (pPVOU IP) p x) (iget (pPVOU IP) p m)).

Definition imargin (ws : list I.type) (t : list nat) (m x : nat) : I.type :=
  isum (n_ctx M) (fun p => I.mul prec (nth p ws I.nai) (ih t m x p)).

Definition decide_seq (t : list nat) : bool :=
  let m := list_max t in
  let ws := map (fun p => I.exp prec (iscore t p)) (seq 0 (n_ctx M)) in
  forallb (fun x => orb (Nat.eqb x m) (is_negative (imargin ws t m x))) (seq 0 (d_vocab M)).

Hypothesis Hn : (0 < n_ctx M)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.

Lemma valid_tok (t : list nat) (p : nat) :
  valid_seq M t -> (p < n_ctx M)%nat -> (tok t p < d_vocab M)%nat.
Proof.
  intros [Hlen Hall] Hp. unfold tok. rewrite Forall_forall in Hall.
  apply Hall, nth_In. lia.
Qed.

Lemma valid_query (t : list nat) : valid_seq M t -> (query M t < d_vocab M)%nat.
Proof. intros Ht. apply valid_tok; [exact Ht | lia]. Qed.

Lemma valid_max (t : list nat) : valid_seq M t -> (list_max t < d_vocab M)%nat.
Proof.
  intros [Hlen Hall]. apply list_max_lt; [|exact Hall].
  intros ->. simpl in Hlen. lia.
Qed.

Lemma encl_iscore (t : list nat) (p : nat) :
  valid_seq M t -> (p < n_ctx M)%nat -> encl (iscore t p) (score M t p).
Proof.
  intros Ht Hp. destruct HIP as (_ & _ & _ & HE & HP).
  unfold iscore, score. unfold Rdiv.
  replace (/ sqrt (INR (d_head M))) with (1 / sqrt (INR (d_head M))) by (unfold Rdiv; ring).
  apply encl_mul; [apply encl_add | apply encl_inv_sqrt; exact Hdh].
  - apply HE; [apply valid_query | apply valid_tok]; assumption.
  - apply HP; [apply valid_query; assumption | exact Hp].
Qed.

Lemma encl_ih (t : list nat) (m x p : nat) :
  valid_seq M t -> (m < d_vocab M)%nat -> (x < d_vocab M)%nat -> (p < n_ctx M)%nat ->
  encl (ih t m x p) (h M t m x p).
Proof.
  intros Ht Hm Hx Hp. destruct HIP as (HU & HV & HPV & _ & _).
  pose proof (valid_query t Ht). pose proof (valid_tok t p Ht Hp).
  unfold ih, h. repeat apply encl_add; apply encl_sub; auto.
Qed.

Theorem decide_seq_sound (t : list nat) :
  valid_seq M t -> decide_seq t = true -> correct M t.
Proof.
  intros Ht Hd x Hx Hxm. unfold decide_seq in Hd. rewrite forallb_forall in Hd.
  specialize (Hd x (proj2 (in_seq _ _ _) (conj (Nat.le_0_l x) Hx))).
  apply Bool.orb_true_iff in Hd. destruct Hd as [Heq|Hneg].
  - apply Nat.eqb_eq in Heq. contradiction.
  - apply (wins_iff_unnormalised_neg M t (list_max t) x Hn).
    eapply encl_is_negative; [|exact Hneg].
    unfold imargin, unnormalised. apply encl_isum. intros p Hp.
    apply encl_mul.
    + rewrite nth_map_seq by exact Hp. apply encl_exp, encl_iscore; assumption.
    + apply encl_ih; try assumption. apply valid_max; exact Ht.
Qed.

End Decide.

(** The whole brute-force check of a claim [N]. *)
Definition brute_force_check (M : model) (N : N) : bool :=
  let IP := compute_paths M in
  andb (andb (Nat.ltb 0 (n_ctx M)) (Nat.ltb 0 (d_head M)))
  (N.leb N (N.of_nat (length (filter (decide_seq M IP) (all_seqs (d_vocab M) (n_ctx M)))))).

Theorem brute_force_sound (M : model) (N : N) :
  brute_force_check M N = true -> at_least_correct M (N.to_nat N).
Proof.
  unfold brute_force_check. intros H.
  apply andb_prop in H as [H HN]. apply andb_prop in H as [Hn Hdh].
  apply Nat.ltb_lt in Hn, Hdh. apply N.leb_le in HN.
  pose proof (compute_paths_correct M Hn) as HIP.
  exists (filter (decide_seq M (compute_paths M)) (all_seqs (d_vocab M) (n_ctx M))).
  split; [apply NoDup_filter, all_seqs_NoDup|]. split; [lia|].
  apply Forall_forall. intros t Ht. apply filter_In in Ht as [Hin Hdec].
  assert (Hv : valid_seq M t) by (apply all_seqs_valid; exact Hin).
  split; [exact Hv|]. eapply decide_seq_sound; eassumption.
Qed.
