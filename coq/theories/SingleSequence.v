(** * Deciding one sequence (shared by the brute-force and cubic checkers)

    For a sequence and every competitor x != max, enclose the unnormalised margin
    sum_p exp(s_p) * h_p(x) (Identity.v) by an interval and accept the sequence when the
    whole interval is negative ([decide_ws], with the position weights given;
    [decide_seq], with them computed from the scores); [decide_ws_sound]. *)

From Coq Require Import Reals ZArith NArith List Lia Lra.
From CompactProofs Require Import Model Rsum Identity Enclosure IMatrix ZMatrix IPaths ZLogit.
Open Scope R_scope.

Section Decide.
Variable M : model.
Variable IP : ipaths.   (* interval path matrices (for the scores) *)
Variable L : zlogits.   (* the logit paths, exactly, at one scale *)

(** Interval of the score s_p = (EQKE[q,t_p] + EQKP[q,p]) / sqrt(d_head). *)
Definition iscore (t : list nat) (p : nat) : I.type :=
  I.mul prec (I.add prec (iget (pEQKE IP) (query M t) (tok t p)) (iget (pEQKP IP) (query M t) p))
        (inv_sqrt (d_head M)).

(** The interval of sum_p w_p h_p(x), with h_p(x) exact ([zh], ZLogit.v) rounded once. *)
Definition imargin (ws : list I.type) (t : list nat) (m x : nat) : I.type :=
  isum (n_ctx M) (fun p =>
    I.mul prec (nth p ws I.nai) (iround (zh L (query M t) (tok t p) m x p) (lexp L))).

(** Accept [t] when, for the position weights [ws] (intervals of exp(s_p)), the margin
    interval of every competitor x != max is negative.  Both checkers decide single
    sequences with it (Cubic.v passes weights from its exp tables). *)
Definition decide_ws (ws : list I.type) (t : list nat) : bool :=
  let m := list_max t in
  forallb (fun x => orb (Nat.eqb x m) (is_negative (imargin ws t m x))) (seq 0 (d_vocab M)).

Definition decide_seq (t : list nat) : bool :=
  decide_ws (map (fun p => I.exp prec (iscore t p)) (seq 0 (n_ctx M))) t.

Hypothesis Hn : (0 < n_ctx M)%nat.
Hypothesis Hdh : (0 < d_head M)%nat.
Hypothesis HIP : paths_enclosed M IP.
Hypothesis HL : zh_spec M L.

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

(** [decide_ws] is sound for any weights enclosing exp(s_p) at every position. *)
Theorem decide_ws_sound (ws : list I.type) (t : list nat) :
  valid_seq M t -> (forall p, (p < n_ctx M)%nat -> encl (nth p ws I.nai) (exp (score M t p))) ->
  decide_ws ws t = true -> correct M t.
Proof.
  intros Ht Hws Hd x Hx Hxm. unfold decide_ws in Hd. rewrite forallb_forall in Hd.
  specialize (Hd x (proj2 (in_seq _ _ _) (conj (Nat.le_0_l x) Hx))).
  apply Bool.orb_true_iff in Hd. destruct Hd as [Heq|Hneg].
  - apply Nat.eqb_eq in Heq. contradiction.
  - apply (wins_iff_unnormalised_neg M t (list_max t) x Hn).
    eapply encl_is_negative; [|exact Hneg].
    unfold imargin, unnormalised. apply encl_isum. intros p Hp.
    apply encl_mul; [apply Hws, Hp|].
    rewrite <- (HL t (list_max t) x p Ht (valid_max t Ht) Hx Hp). apply encl_iround.
Qed.

Theorem decide_seq_sound (t : list nat) :
  valid_seq M t -> decide_seq t = true -> correct M t.
Proof.
  intros Ht. apply decide_ws_sound; [exact Ht|]. intros p Hp.
  rewrite nth_map_seq by exact Hp. apply encl_exp, encl_iscore; assumption.
Qed.

End Decide.
