(** * Certified enclosures of real numbers by floating-point intervals

    We use the Interval library's floating-point intervals with binary-integer ([Z])
    mantissas (module [I] below, [StdZRadix2]) and its proven correctness theorems.  Its
    faster [BigIntRadix2] floats would compute with the kernel's primitive integers, whose
    specification adds axioms ([PrimInt63], [Uint63]) to every theorem.  [encl xi x] says the
    interval [xi] contains the real [x]; each lemma below transports an enclosure
    through one real operation.  The checkers compute intervals by [vm_compute]; these
    lemmas make the result a proof about the real expression. *)

From Coq Require Import Reals ZArith Lia Lra.
From Interval Require Import Float.Specific_ops Float.Specific_stdz Float.Basic
  Interval.Float_full Interval.Interval Real.Xreal.
From CompactProofs Require Import Model Rsum.
Open Scope R_scope.

Module F := SpecificFloat StdZRadix2.
Module I := FloatIntervalFull F.

(** Working precision (bits of mantissa) of every interval operation. *)
Definition prec : F.precision := F.PtoP 64.

Definition encl (xi : I.type) (x : R) : Prop := contains (I.convert xi) (Xreal x).

Lemma encl_add xi yi x y : encl xi x -> encl yi y -> encl (I.add prec xi yi) (x + y).
Proof. intros Hx Hy. exact (I.add_correct prec xi yi (Xreal x) (Xreal y) Hx Hy). Qed.

Lemma encl_sub xi yi x y : encl xi x -> encl yi y -> encl (I.sub prec xi yi) (x - y).
Proof. intros Hx Hy. exact (I.sub_correct prec xi yi (Xreal x) (Xreal y) Hx Hy). Qed.

Lemma encl_mul xi yi x y : encl xi x -> encl yi y -> encl (I.mul prec xi yi) (x * y).
Proof. intros Hx Hy. exact (I.mul_correct prec xi yi (Xreal x) (Xreal y) Hx Hy). Qed.

Lemma encl_exp xi x : encl xi x -> encl (I.exp prec xi) (exp x).
Proof. intros Hx. exact (I.exp_correct prec xi (Xreal x) Hx). Qed.

Lemma encl_zero : encl I.zero 0.
Proof. unfold encl. rewrite I.zero_correct. simpl. lra. Qed.

Lemma encl_Z (z : Z) : encl (I.fromZ prec z) (IZR z).
Proof. exact (I.fromZ_correct prec z). Qed.

Lemma is_zero_false (x : R) : x <> 0 -> is_zero x = false.
Proof.
  intros H. unfold is_zero. destruct (Raux.Req_bool_spec x 0); [contradiction|reflexivity].
Qed.

Lemma encl_div xi yi x y : y <> 0 -> encl xi x -> encl yi y -> encl (I.div prec xi yi) (x / y).
Proof.
  intros Hy0 Hx Hy. pose proof (I.div_correct prec xi yi (Xreal x) (Xreal y) Hx Hy) as H.
  simpl in H. unfold Xdiv' in H. rewrite (is_zero_false y Hy0) in H. exact H.
Qed.

Lemma encl_sqrt xi x : encl xi x -> encl (I.sqrt prec xi) (sqrt x).
Proof. intros Hx. exact (I.sqrt_correct prec xi (Xreal x) Hx). Qed.

(** Powers of two, as in the weight encoding [mantissa * 2 ^ exponent]. *)
Lemma encl_pow2 (e : Z) : encl (I.power_int prec (I.fromZ prec 2) e) (powerRZ 2 e).
Proof.
  pose proof (I.power_int_correct prec e (I.fromZ prec 2) (Xreal 2) (encl_Z 2)) as H.
  unfold encl. destruct e as [|p|p]; simpl in H |- *; try exact H.
  rewrite is_zero_false in H by lra. exact H.
Qed.

Definition idyadic (m e : Z) : I.type :=
  I.mul prec (I.fromZ prec m) (I.power_int prec (I.fromZ prec 2) e).

Lemma encl_dyadic (m e : Z) : encl (idyadic m e) (IZR m * powerRZ 2 e).
Proof. apply encl_mul; [apply encl_Z | apply encl_pow2]. Qed.

(** 1 / sqrt d for a positive integer d. *)
Definition inv_sqrt (d : nat) : I.type :=
  I.div prec (I.fromZ prec 1) (I.sqrt prec (I.fromZ prec (Z.of_nat d))).

Lemma encl_inv_sqrt (d : nat) : (0 < d)%nat -> encl (inv_sqrt d) (1 / sqrt (INR d)).
Proof.
  intros Hd. unfold inv_sqrt. apply encl_div.
  - apply Rgt_not_eq, sqrt_lt_R0, lt_0_INR. exact Hd.
  - apply encl_Z.
  - apply encl_sqrt. rewrite INR_IZR_INZ. apply encl_Z.
Qed.

(** Finite sums of enclosures. *)
Fixpoint isum (k : nat) (f : nat -> I.type) : I.type :=
  match k with O => I.zero | S k' => I.add prec (isum k' f) (f k') end.

Lemma encl_isum (k : nat) (fi : nat -> I.type) (f : nat -> R) :
  (forall i, (i < k)%nat -> encl (fi i) (f i)) -> encl (isum k fi) (rsum k f).
Proof.
  induction k as [|k IH]; intros H; simpl.
  - apply encl_zero.
  - apply encl_add; [apply IH; intros; apply H; lia | apply H; lia].
Qed.

(** Reading a sign off an enclosure. *)
Lemma encl_neg xi x : encl xi x -> I.sign_strict xi = Xlt -> x < 0.
Proof.
  intros Hx Hs. pose proof (I.sign_strict_correct xi) as H. rewrite Hs in H.
  destruct (H (Xreal x) Hx) as [_ Hlt]. exact Hlt.
Qed.

Definition is_negative (xi : I.type) : bool :=
  match I.sign_strict xi with Xlt => true | _ => false end.

Lemma encl_is_negative xi x : encl xi x -> is_negative xi = true -> x < 0.
Proof.
  unfold is_negative. intros Hx Hs. destruct (I.sign_strict xi) eqn:E; try discriminate.
  exact (encl_neg xi x Hx E).
Qed.

(** ** Hulls and upper bounds *)

(** The hull of the intervals [f i] for [i] in [l] contains every value they contain. *)
Definition ijoin {A} (f : A -> I.type) (l : list A) : I.type :=
  List.fold_left (fun acc i => I.join acc (f i)) l I.empty.

Lemma encl_ijoin_acc {A} (f : A -> I.type) (l : list A) (acc : I.type) (y : R) :
  (encl acc y \/ exists i, List.In i l /\ encl (f i) y) ->
  encl (List.fold_left (fun acc i => I.join acc (f i)) l acc) y.
Proof.
  revert acc. induction l as [|a l IH]; intros acc H; simpl.
  - destruct H as [H|[i [[] _]]]. exact H.
  - apply IH. destruct H as [H|[i [[<-|Hi] Hy]]].
    + left. apply I.join_correct. left. exact H.
    + left. apply I.join_correct. right. exact Hy.
    + right. exists i. split; assumption.
Qed.

Lemma encl_ijoin {A} (f : A -> I.type) (l : list A) (i : A) (y : R) :
  List.In i l -> encl (f i) y -> encl (ijoin f l) y.
Proof. intros Hi Hy. apply encl_ijoin_acc. right. exists i. split; assumption. Qed.

(** The upper end of an interval, as a degenerate interval, and as a real. *)
Definition top (J : I.type) : I.type := Float.Ibnd (I.upper J) (I.upper J).
Definition top_real (J : I.type) : R := F.toR (I.upper J).
Definition has_top (J : I.type) : bool := F.real (I.upper J).

Lemma encl_top (J : I.type) : has_top J = true -> encl (top J) (top_real J).
Proof.
  unfold has_top, top, top_real, encl. intros H. rewrite F.real_correct in H.
  unfold F.toR. simpl. destruct (F.toX (I.upper J)) as [|r]; [discriminate|]. simpl. lra.
Qed.

Lemma le_top (J : I.type) (y : R) : has_top J = true -> encl J y -> y <= top_real J.
Proof.
  unfold has_top, top_real, encl. intros H Hy. rewrite F.real_correct in H.
  destruct J as [|l u]; [simpl in H; discriminate|]. simpl in H |- *.
  unfold F.toR. simpl in Hy. destruct (F.toX u) as [|r] eqn:Eu; [discriminate|].
  simpl. destruct (F.toX l); tauto.
Qed.

(** The lower end of an interval, as a degenerate interval, and as a real. *)
Definition bot (J : I.type) : I.type := Float.Ibnd (I.lower J) (I.lower J).
Definition bot_real (J : I.type) : R := F.toR (I.lower J).
Definition has_bot (J : I.type) : bool := F.real (I.lower J).

Lemma encl_bot (J : I.type) : has_bot J = true -> encl (bot J) (bot_real J).
Proof.
  unfold has_bot, bot, bot_real, encl. intros H. rewrite F.real_correct in H.
  unfold F.toR. simpl. destruct (F.toX (I.lower J)) as [|r]; [discriminate|]. simpl. lra.
Qed.

Lemma bot_le (J : I.type) (y : R) : has_bot J = true -> encl J y -> bot_real J <= y.
Proof.
  unfold has_bot, bot_real, encl. intros H Hy. rewrite F.real_correct in H.
  destruct J as [|l u]; [simpl in H; discriminate|]. simpl in H |- *.
  unfold F.toR. simpl in Hy. destruct (F.toX l) as [|r] eqn:El; [discriminate|].
  simpl. destruct (F.toX u); tauto.
Qed.

(** A positive real, read off an enclosure: [0 - x] is certainly negative. *)
Lemma encl_is_positive xi x : encl xi x -> is_negative (I.sub prec I.zero xi) = true -> 0 < x.
Proof.
  intros Hx Hn. apply (encl_is_negative _ (0 - x)) in Hn; [lra|].
  apply encl_sub; [apply encl_zero | exact Hx].
Qed.

(** ** Running hulls *)

(** [scan acc l]: element j is the hull of [acc] and the first j+1 elements of [l]. *)
Fixpoint scan (acc : I.type) (l : list I.type) : list I.type :=
  match l with
  | nil => nil
  | cons a l' => let acc' := I.join acc a in cons acc' (scan acc' l')
  end.

Lemma encl_scan_acc (l : list I.type) : forall (acc : I.type) (j : nat) (y : R),
  (j < length l)%nat -> encl acc y -> encl (List.nth j (scan acc l) I.nai) y.
Proof.
  induction l as [|a l IH]; intros acc j y Hj Hy; simpl in Hj; [lia|].
  simpl. destruct j as [|j].
  - apply I.join_correct. left. exact Hy.
  - apply IH; [lia|]. apply I.join_correct. left. exact Hy.
Qed.

Lemma encl_scan (l : list I.type) : forall (acc : I.type) (j i : nat) (y : R),
  (j < length l)%nat -> (i <= j)%nat -> encl (List.nth i l I.nai) y -> encl (List.nth j (scan acc l) I.nai) y.
Proof.
  induction l as [|a l IH]; intros acc j i y Hj Hi Hy; simpl in Hj; [lia|].
  simpl. destruct i as [|i].
  - simpl in Hy. destruct j as [|j].
    + apply I.join_correct. right. exact Hy.
    + apply encl_scan_acc; [lia|]. apply I.join_correct. right. exact Hy.
  - destruct j as [|j]; [lia|]. simpl in Hy. apply IH with (i := i); [lia | lia | exact Hy].
Qed.

Lemma scan_length (l : list I.type) (acc : I.type) : List.length (scan acc l) = List.length l.
Proof. revert acc. induction l as [|a l IH]; intros acc; simpl; [reflexivity|]. rewrite IH. reflexivity. Qed.

Lemma encl_abs xi x : encl xi x -> encl (I.abs xi) (Rabs x).
Proof. intros Hx. exact (I.abs_correct xi (Xreal x) Hx). Qed.
