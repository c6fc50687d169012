"""Parameter and attribute text shared by the estimators' docstrings."""

PARAMS = """\
lam : float or "auto", default="auto"
        Price of one open gate, in units of the task loss: for regression
        the targets are standardized, so ``lam`` is the fraction of the
        target's variance a feature must explain to be kept (1e-4 keeps
        almost everything, 1e-2 keeps features worth 1% of the variance,
        1.0 keeps none); for classification it is in nats of mean
        cross-entropy. ``"auto"`` fits a warm-started path of 16 values
        from 1e-4 to 0.5 and, for every size, scores the best support found
        (the path's, polished by a swap search) by the extended BIC (Chen &
        Chen 2008), keeping the lowest; see the user guide. With ``k``
        set, a number ``lam`` selects and ``k`` caps (see ``k``).
    k : int or None, default=None
        With ``lam="auto"``: keep exactly ``k`` features. The gates are
        fitted along a warm-started path of increasing ``lam`` until at
        most ``k`` stay open; the ``k`` that stay open longest are kept, and
        (linear heads, ``refit=True``) a swap search as in abess exchanges
        kept and dropped features while the refitted loss falls. With a
        number ``lam``: keep at most ``k`` features, as
        ``SelectFromModel``'s ``max_features`` beside its threshold: the
        fit at ``lam`` stands when it keeps ``k`` or fewer, otherwise the
        exact-``k`` walk above goes on from ``lam`` (``lam_`` then says
        where it stopped). So ``GridSearchCV`` over ``lam`` with ``k`` set
        tunes the size below the cap.
    max_iter : int, default=300
        Linear heads: L-BFGS-B iterations per point of the ``lam`` path (a
        point stops earlier once converged, usually after a few). Squared
        loss with more rows than columns is solved by an exact open/closed
        search that ends by itself (every accepted flip lowers the
        objective); L-BFGS-B, capped by ``max_iter``, then runs only if
        that search did not end at a KKT point. MLP
        heads: Adam steps of one fit; under ``lam="auto"`` the first path
        point takes ``max_iter`` steps and each warm-started point a third.
    learning_rate_init : float, default=0.1
        Adam step size for gates and head of an MLP head. Linear heads are
        trained without sampling by L-BFGS-B, which has no step size.
    init_prob : float, default=0.9
        Initial probability that each gate is open, in (0, 1).
    temperature : float, default=2/3
        Hard Concrete temperature ``beta`` (Louizos et al. 2017).
    alpha : float, default=1e-4
        L2 penalty on the head's weights (standardized scale), used in
        training and in the refit. With hidden layers it is the network's
        weight decay, ``alpha * sum(W**2)`` over all layers, not divided by
        the number of samples as in ``MLPRegressor``; raising it trades
        weak curved effects for robustness to noise columns (see the user
        guide's "Nonlinear heads").
    refit : bool, default=True
        Refit the head on the kept features with their gates fully open
        (removes shrinkage). ``lam="auto"`` scores refitted supports either
        way; with ``refit=False`` the exported model is the path's own head
        behind its deterministic gates, and exact ``k`` skips the swap search.
    batch_size : int or None, default=None
        Rows per Adam step of an MLP head, drawn as shuffled epochs with the
        estimator's generator; ``None`` means ``min(n_samples, 512)`` (the
        refit always uses the whole batch). Linear heads ignore it: their
        deterministic objective is evaluated on all rows (or on X'X for
        squared loss with n > p).
    hidden_layer_sizes : tuple of int or "auto", default=()
        Hidden layers of an MLP head behind the gates (scikit-learn's
        ``MLPRegressor`` name). ``()`` keeps the linear head. With hidden
        layers, ``coef_`` is not offered, ``lam="auto"`` keeps the sparsest
        path point whose held-out loss is not significantly worse than the
        best's (paired test, family-wise 5%) instead of EBIC, and the refit retrains the
        network on the kept features. ``"auto"`` fits the linear head, tests
        its residuals for curvature and interactions (family-wise 5%) and,
        only if they show any, an MLP head of one 64-unit layer, which is
        kept when its held-out loss beats the linear path's by more than one
        standard error; ``hidden_layer_sizes_`` holds the choice and
        ``head_selection_`` the numbers behind it (``partial_fit`` and
        ``l0_path`` keep the linear head).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    early_stopping : bool, default=False
        For nonlinear heads: keep the refit's weights with the lowest loss on
        a held-out ``validation_fraction`` of the rows.
    validation_fraction : float, default=0.1
        Share of rows held out for ``lam="auto"`` with hidden layers and for
        ``early_stopping``.
    keep_redundant : bool or "auto", default="auto"
        Only with ``k``: fill the ``k`` slots *all-relevant* instead of
        *minimal-optimal*. After the columns the selection needs, a feature
        associated with those already taken (an F test of its regression on
        them, family-wise 5% over the remaining features) is taken before
        the next feature in gate-survival order, so redundant copies and
        combinations of the selected signal come before features kept only
        by chance; with uncorrelated features it changes nothing. ``"auto"``
        is True for MLP heads (whose first columns are those of the
        held-out-validated support) and False for the linear head, whose
        best-subset polish it would skip. With ``groups`` it does not apply:
        an MLP head's ``k`` groups are taken in the order of their columns
        (validated support first, then gate survival). See the user guide's
        "Nonlinear heads".
    groups : array-like of shape (n_features,) or None, default=None
        One group label per column of X (str or int); columns with the same
        label share one gate and are kept or dropped together, e.g. the 0/1
        columns of a one-hot encoded categorical column (see
        :func:`skl0.groups_from_column_transformer`). ``k`` then counts
        groups, ``get_support`` covers whole groups, ``group_support_`` says
        which groups were kept, and ``lam="auto"``'s information criterion
        counts a group's columns as parameters and groups in its
        combinatorial term. ``None``: one gate per column.
    feature_costs : array-like or dict or None, default=None
        Non-negative price of each feature: one number per column (a group
        costs the sum of its columns'), one per group (in the order of the
        groups' first columns), or a dict from group label (column index
        without ``groups``) to price. Each gate's share of ``lam`` is
        ``lam * cost / mean(cost)``, so an expensive feature must explain
        more to be kept; under ``k`` the swap search minimises the refitted
        loss plus ``lam_`` times the kept set's cost, so of two near-equally
        useful features the cheaper one is kept. ``None``: every feature
        costs the same.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``. Fitted attributes are numpy arrays either way.
    dtype : {"float32", "float64"} or None, default=None
        Precision of the torch computation. ``None`` follows scikit-learn's
        convention: the input's floating dtype (float32 X is computed in
        float32, everything else in float64). Column means, spreads and
        ``X'X`` are accumulated in float64 from centred rows either way.
    random_state : int, RandomState instance or None, default=None
        Seeds a local ``torch.Generator`` for the gate noise and the
        initial weights of an MLP head; torch's global RNG is never
        touched. ``None`` draws the seed from numpy's global RNG (one draw
        per fit, scikit-learn's convention, so ``np.random.seed`` makes it
        reproducible); an int or a ``RandomState`` leaves numpy's global
        state alone. Linear heads draw no random numbers: their selection
        is the same for every seed.
    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar (tqdm when installed, else
        a line every tenth of the run on stderr) with the loss and the
        number of open gates."""

ATTRIBUTES = """\
support_ : ndarray of shape (n_features_in,), dtype=bool
        Mask of the selected features.
    feature_importances_ : ndarray of shape (n_features_in,)
        Probability that each feature's gate is open (eq. 12). Under ``k``
        the kept features are the best ``k`` found by the gate path and a
        final swap search, so a borderline feature may be kept with a low
        probability, or left out with a high one.
    lam_ : float
        The ``lam`` of the chosen path point (under ``"auto"`` and ``k``),
        else ``lam``.
    n_iter_ : int
        Optimizer iterations taken (L-BFGS-B iterations for linear heads,
        Adam steps for MLP heads), summed over the path.
    loss_curve_ : list of float
        With a numeric ``lam``: the training objective after each
        iteration. Under ``"auto"`` or ``k``: the training objective at each
        path point.
    n_screened_ : int
        Only when X had more columns than rows (``lam="auto"`` or ``k``,
        linear head): the number of columns kept by screening, those with
        the largest marginal loss reduction; the gates chose among these,
        and the information criterion counted all columns.
    validation_scores_ : list of float
        Only with hidden layers (``lam="auto"`` or ``k``): the mean held-out
        loss of each point of the gate path (see ``validation_fraction``).
    hidden_layer_sizes_ : tuple of int
        The hidden layers of the fitted head: ``()`` for the linear head;
        with ``hidden_layer_sizes="auto"``, the one chosen.
    head_selection_ : dict
        Only with ``hidden_layer_sizes="auto"``: ``nonlinearity_statistic``
        and ``nonlinearity_threshold`` (the residual test), and, when the
        test rejected the linear head, ``linear_held_out_loss``,
        ``mlp_held_out_loss`` and ``mlp_held_out_se``.
    group_labels_ : ndarray of shape (n_groups,)
        Only with ``groups``: the group labels, in the order of their first
        column.
    group_support_ : ndarray of shape (n_groups,), dtype=bool
        Only with ``groups``: which groups were kept.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in,)
        Names of features seen in ``fit``, when X has string column names."""


def fill(doc):
    """Substitute the shared parameter and attribute text into ``doc``."""
    return doc.replace("%(params)s", PARAMS).replace("%(attributes)s", ATTRIBUTES)
