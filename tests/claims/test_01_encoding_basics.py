"""The claims of notebook 01_encoding_basics, measured on the shipped data and every world.

Each claim rebuilds what the notebook computes (the split with its gaps, the validation
block, the models) on the world at hand, and wherever the simulator knows the answer it
measures against the true payer probabilities. Worlds have 5,000 players, the shipped data
30,000: claims about one draw of labels on this data are declared ``specific``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from threadpoolctl import threadpool_limits

from mlcourse import encoding
from mlcourse.claims import REGISTRY, Finding, World, claim, judge, notebook_claims
from mlcourse.datasets import PLAYER_ATTRIBUTES
from mlcourse.telemetry import bayes_auc

NOTEBOOK = "01_encoding_basics"
ATTRIBUTES = list(PLAYER_ATTRIBUTES)
NOMINAL = ["country", "platform", "acquisition_channel", "starter_hero", "language", "push_opt_in"]
ORDINAL = ["age_band", "difficulty"]
HIGH_CARDINALITY = ["device_model", "campaign_id"]
GAP = pd.Timedelta(days=7)
CODES = OrdinalEncoder(
    handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
)


def _split(world: World) -> dict:
    """The notebook's split (§1): train / test with a gap, fit / validation with a gap."""
    if "nb01" not in world._cache:
        data = world.players().merge(world.payer_truth(), on="player_id", validate="one_to_one")
        X_train, X_test, y_train, y_test = encoding.split_by_time_column(
            data[[*ATTRIBUTES, "install_date"]],
            data["is_payer"].astype(int),
            "install_date",
            test_share=0.3,
            gap=GAP,
        )
        X_fit, X_val, y_fit, y_val = encoding.split_by_time_column(
            X_train, y_train, "install_date", test_share=0.25, gap=GAP
        )
        p = data["p_payer"]
        world._cache["nb01"] = {
            "data": data,
            "X_train": X_train[ATTRIBUTES],
            "X_test": X_test[ATTRIBUTES],
            "X_fit": X_fit[ATTRIBUTES],
            "X_val": X_val[ATTRIBUTES],
            "y_train": y_train,
            "y_test": y_test,
            "y_fit": y_fit,
            "y_val": y_val,
            "p_val": p[X_val.index].to_numpy(),
            "p_test": p[X_test.index].to_numpy(),
        }
    return world._cache["nb01"]


def _fit_predict(s: dict, enc, cols, X: str, y: str, on: str, C: float = 1.0) -> np.ndarray:
    with threadpool_limits(1):
        model = make_pipeline(
            make_column_transformer((enc, cols)), LogisticRegression(C=C, max_iter=1000)
        ).fit(s[X], s[y])
        return model.predict_proba(s[on])[:, 1]


def _truth_redraws(world: World) -> np.ndarray:
    if "nb01_redraws" not in world._cache:
        world._cache["nb01_redraws"] = encoding.auc_redraws(_split(world)["p_val"], n_draws=1000)
    return world._cache["nb01_redraws"]


@claim("01-bayes-below-one", NOTEBOOK, "the Bayes-optimal AUC is well below 1")
def bayes_below_one(world: World) -> Finding:
    value = bayes_auc(world.payer_truth()["p_payer"].to_numpy())
    return Finding(value, value < 0.9)


@claim(
    "01-label-window",
    NOTEBOOK,
    "a label says whether a player bought within 7 days of install (so it is known 7 days "
    "after install)",
)
def label_window(world: World) -> Finding:
    players, events = world.players(), world.events()
    buys = events[events["event"] == "purchase"].merge(
        players[["player_id", "install_date"]], on="player_id"
    )
    early = buys.loc[buys["ts"] - buys["install_date"] < GAP, "player_id"].unique()
    label = world.payer_truth().set_index("player_id")["is_payer"]
    agree = float((label.index.isin(early) == label.to_numpy()).mean())
    return Finding(agree, agree > 0.999, truth=agree > 0.999, shown=f"{agree:.2%} agree")


@claim(
    "01-truth-above-half",
    NOTEBOOK,
    "the truth itself scores above the Bayes limit on about half of the redrawn label sets",
)
def truth_above_half(world: World) -> Finding:
    share = float(np.mean(_truth_redraws(world) > bayes_auc(_split(world)["p_val"])))
    return Finding(share, 0.35 <= share <= 0.65, truth=0.35 <= share <= 0.65)


@claim(
    "01-fewer-rows-noisier",
    NOTEBOOK,
    "on fewer rows (a fold) the AUC's noise band is wider",
)
def fewer_rows_noisier(world: World) -> Finding:
    p = _split(world)["p_val"]
    fold = np.random.default_rng(0).permutation(p.size)[: p.size // 5]
    # a fold with no payer in a redraw has no AUC: those draws are left out
    small = encoding.auc_redraws(p[fold], n_draws=500)
    ratio = float(np.nanstd(small) / np.nanstd(_truth_redraws(world)))
    return Finding(ratio, ratio > 1.3, shown=f"a fifth of the rows: sd x{ratio:.2f}")


@claim(
    "01-spend-leak",
    NOTEBOOK,
    "lifetime_spend alone scores far beyond the top of the truth's noise band",
)
def spend_leak(world: World) -> Finding:
    s = _split(world)
    auc = roc_auc_score(s["y_val"], s["data"].loc[s["X_val"].index, "lifetime_spend"])
    top = float(np.quantile(_truth_redraws(world), 0.975))
    return Finding(auc - top, auc > top + 0.1, shown=f"{auc:.3f} against a band top of {top:.3f}")


@claim(
    "01-twenty-rows",
    NOTEBOOK,
    "a level with fewer than about 20 rows holds less than one payer on average",
)
def twenty_rows(world: World) -> Finding:
    value = 20 * float(world.payer_truth()["p_payer"].mean())
    return Finding(value, value < 1, truth=value < 1, shown=f"{value:.2f} payers in 20 rows")


@claim(
    "01-campaign-rows",
    NOTEBOOK,
    "campaign_id: about 9 rows per campaign on average, yet half of the rows sit in campaigns "
    "of 40 rows or more; about a third sit in campaigns of fewer than 20 rows",
    specific=True,
)
def campaign_rows(world: World) -> Finding:
    r = encoding.column_report(_split(world)["X_train"]).loc["campaign_id"]
    mean, median, small = r["rows_per_level"], r["median_level_rows"], r["small_level_row_share"]
    holds = 8 <= mean < 10 and median >= 40 and 0.28 <= small <= 0.4
    return Finding(small, holds, shown=f"mean {mean:.1f}, median row {median:.0f}, {small:.0%}")


@claim(
    "01-age-hump",
    NOTEBOOK,
    "the payer share rises and then falls with age (true probabilities by age band)",
)
def age_hump(world: World) -> Finding:
    data = _split(world)["data"]
    by_band = data.groupby("age_band", observed=True)["p_payer"].mean()
    peak = int(np.argmax(by_band.to_numpy()))
    holds = 0 < peak < len(by_band) - 1
    return Finding(peak, holds, truth=holds, shown=f"peak at {by_band.index[peak]}")


def _age_scores(world: World) -> pd.DataFrame:
    s = _split(world)
    order = list(s["X_train"]["age_band"].cat.categories)
    codes = make_pipeline(
        OrdinalEncoder(categories=[[*order, np.nan]], encoded_missing_value=np.nan),
        SimpleImputer(strategy="constant", fill_value=0, add_indicator=True),
    )
    pred = {
        "code": _fit_predict(s, codes, ["age_band"], "X_fit", "y_fit", "X_val"),
        "onehot": _fit_predict(
            s, OneHotEncoder(handle_unknown="ignore"), ["age_band"], "X_fit", "y_fit", "X_val"
        ),
    }
    t = encoding.truth_scores(s["p_val"], pred, s["y_val"], n_draws=0)
    diff = encoding.auc_redraws(s["p_val"], pred["code"], n_draws=500) - encoding.auc_redraws(
        s["p_val"], pred["onehot"], n_draws=500
    )
    t.attrs["paired"] = (float(diff.mean()), float(diff.std()))
    return t


@claim(
    "01-age-onehot-truth",
    NOTEBOOK,
    "here, against the truth, age one-hot ranks the validation players better than one age "
    "code with a missing indicator (on worlds of 5,000 players, with six weights fitted on "
    "about 70 payers, either can win)",
    specific=True,
)
def age_onehot_truth(world: World) -> Finding:
    t = _age_scores(world)
    diff = float(t.loc["onehot", "expected_auc"] - t.loc["code", "expected_auc"])
    return Finding(diff, diff > 0, shown=f"expected AUC {diff:+.3f}")


@claim(
    "01-age-val-reversed",
    NOTEBOOK,
    "on this validation block the AUCs order age code above age one-hot, more than two SDs of "
    "the difference (over redrawn labels, paired) away from the difference they estimate",
    specific=True,
)
def age_val_reversed(world: World) -> Finding:
    t = _age_scores(world)
    diff = float(t.loc["code", "auc"] - t.loc["onehot", "auc"])
    mean, sd = t.attrs["paired"]
    z = (diff - mean) / sd
    return Finding(z, diff > 0 and z > 2, shown=f"{diff:+.3f}, expected {mean:+.3f}, sd {sd:.3f}")


@claim(
    "01-onehot-beats-codes",
    NOTEBOOK,
    "one-hot ranks far better than alphabetical codes, on the validation labels and against "
    "the truth",
)
def onehot_beats_codes(world: World) -> Finding:
    s = _split(world)
    pred = {
        "codes": _fit_predict(s, CODES, NOMINAL + ORDINAL, "X_fit", "y_fit", "X_val"),
        "onehot": _fit_predict(
            s, OneHotEncoder(handle_unknown="ignore"), NOMINAL + ORDINAL, "X_fit", "y_fit", "X_val"
        ),
    }
    t = encoding.truth_scores(s["p_val"], pred, s["y_val"], n_draws=0)
    d_auc = float(t.loc["onehot", "auc"] - t.loc["codes", "auc"])
    d_true = float(t.loc["onehot", "expected_auc"] - t.loc["codes", "expected_auc"])
    holds = d_auc > 0 and d_true > 0.05
    return Finding(
        d_true, holds, truth=d_true > 0.05, shown=f"validation {d_auc:+.3f}, truth {d_true:+.3f}"
    )


@claim(
    "01-unseen-campaigns",
    NOTEBOOK,
    "many validation rows come from campaigns the fitting rows never saw",
)
def unseen_campaigns(world: World) -> Finding:
    s = _split(world)
    share = float(encoding.unseen_levels(s["X_fit"], s["X_val"]).loc["campaign_id"].iloc[1])
    return Finding(share, share > 0.1, shown=f"{share:.0%} of the rows")


@claim(
    "01-prefix-channel",
    NOTEBOOK,
    "every campaign prefix belongs to exactly one acquisition channel",
)
def prefix_channel(world: World) -> Finding:
    X = _split(world)["X_train"]
    camp = X["campaign_id"].dropna().astype(str)
    pairs = pd.DataFrame(
        {"prefix": camp.str.split("-").str[0], "channel": X.loc[camp.index, "acquisition_channel"]}
    )
    most = int(pairs.groupby("prefix", observed=True)["channel"].nunique().max())
    return Finding(most, most == 1, truth=most == 1, shown=f"at most {most} channel per prefix")


@claim(
    "01-grouping-shrinks-gap",
    NOTEBOOK,
    "on a campaign-only one-hot model, grouping rare campaigns (min_frequency=20) removes most "
    "of the memorised excess (training AUC minus the expected AUC on the same rows); C=0.1 "
    "removes less",
)
def grouping_shrinks_gap(world: World) -> Finding:
    s = _split(world)
    p_fit = s["data"]["p_payer"][s["X_fit"].index].to_numpy()
    variants = {
        "plain": (OneHotEncoder(handle_unknown="ignore"), 1.0),
        "grouped": (OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), 1.0),
        "C=0.1": (OneHotEncoder(handle_unknown="ignore"), 0.1),
    }
    mem = {}
    for k, (enc, C) in variants.items():
        q = _fit_predict(s, enc, ["campaign_id"], "X_fit", "y_fit", "X_fit", C)
        mem[k] = roc_auc_score(s["y_fit"], q) - encoding.expected_auc(p_fit, q)
    by_grouping, by_c = mem["plain"] - mem["grouped"], mem["plain"] - mem["C=0.1"]
    holds = by_grouping > 0.5 * mem["plain"] and by_c < by_grouping
    shown = f"memorised {mem['plain']:.3f}: grouping removes {by_grouping:.3f}, C=0.1 {by_c:.3f}"
    return Finding(by_grouping, holds, truth=holds, shown=shown)


@claim(
    "01-c-as-good-as-grouping",
    NOTEBOOK,
    "by the truth on new players (the validation block's expected AUC), the campaign-only "
    "one-hot model with C=0.1 and no grouping ranks them about as well as the grouped one "
    "(min_frequency=20): at most 0.01 below it, or above",
)
def c_as_good_as_grouping(world: World) -> Finding:
    s = _split(world)
    eauc = {
        k: encoding.expected_auc(
            s["p_val"], _fit_predict(s, enc, ["campaign_id"], "X_fit", "y_fit", "X_val", C)
        )
        for k, enc, C in [
            ("grouped", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), 1.0),
            ("C=0.1", OneHotEncoder(handle_unknown="ignore"), 0.1),
        ]
    }
    diff = eauc["C=0.1"] - eauc["grouped"]
    holds = diff > -0.01
    shown = f"C=0.1 {eauc['C=0.1']:.3f}, grouped {eauc['grouped']:.3f}"
    return Finding(diff, holds, truth=holds, shown=shown)


@claim(
    "01-channel-beats-campaign",
    NOTEBOOK,
    "against the truth, a model of acquisition_channel alone ranks the validation players "
    "better than each of the three one-hot campaign_id models (plain, min_frequency=20, C=0.1)",
)
def channel_beats_campaign(world: World) -> Finding:
    s = _split(world)
    campaign = [
        (OneHotEncoder(handle_unknown="ignore"), 1.0),
        (OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20), 1.0),
        (OneHotEncoder(handle_unknown="ignore"), 0.1),
    ]
    best = max(
        encoding.expected_auc(
            s["p_val"], _fit_predict(s, enc, ["campaign_id"], "X_fit", "y_fit", "X_val", C)
        )
        for enc, C in campaign
    )
    q = _fit_predict(s, OneHotEncoder(), ["acquisition_channel"], "X_fit", "y_fit", "X_val")
    diff = encoding.expected_auc(s["p_val"], q) - best
    return Finding(diff, diff > 0, truth=diff > 0, shown=f"channel {diff:+.3f} over the best")


GRID = [(mf, C) for mf in (20, 200) for C in (0.1, 0.3, 1.0)]


def _grid(world: World) -> pd.DataFrame:
    """§5's grid: each setting fitted on the fitting rows and scored on the validation block
    (AUC, how far it trails the best, the paired SD of that difference over 200 label
    redraws, the truth's expected AUC), and fitted on all training rows and scored against
    the truth on the test rows (``test_eauc``, never used to choose)."""
    if "nb01_grid" not in world._cache:
        s = _split(world)
        cols = NOMINAL + ORDINAL + HIGH_CARDINALITY
        rows, redraws, q, qt = {}, {}, {}, {}
        with threadpool_limits(1):
            for mf in sorted({mf for mf, _ in GRID}):
                # the encoding does not depend on C: fitted once per min_frequency (as §5, §6)
                enc = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=mf)
                on_fit = make_column_transformer((enc, cols)).fit(s["X_fit"])
                on_train = make_column_transformer((clone(enc), cols)).fit(s["X_train"])
                Z = {k: on_fit.transform(s[k]) for k in ("X_fit", "X_val")}
                Z |= {k: on_train.transform(s[k]) for k in ("X_train", "X_test")}
                for C in [c for m, c in GRID if m == mf]:
                    lr = LogisticRegression(C=C, max_iter=1000)
                    fit = lr.fit(Z["X_fit"], s["y_fit"])
                    q[mf, C] = fit.predict_proba(Z["X_val"])[:, 1]
                    fit = clone(lr).fit(Z["X_train"], s["y_train"])
                    qt[mf, C] = fit.predict_proba(Z["X_test"])[:, 1]
        for mf, C in GRID:
            redraws[mf, C] = encoding.auc_redraws(s["p_val"], q[mf, C], n_draws=200)
            rows[mf, C] = {
                "auc": roc_auc_score(s["y_val"], q[mf, C]),
                "expected_auc": encoding.expected_auc(s["p_val"], q[mf, C]),
                "test_eauc": encoding.expected_auc(s["p_test"], qt[mf, C]),
            }
        g = pd.DataFrame(rows).T
        g.index.names = ["min_frequency", "C"]
        best = g["auc"].idxmax()
        g["behind_best"] = g.loc[best, "auc"] - g["auc"]
        g["sd_of_diff"] = [float(np.std(redraws[k] - redraws[best])) for k in g.index]
        within = g[g["behind_best"] <= g["sd_of_diff"]].reset_index()
        pick = within.sort_values(["C", "auc"], ascending=[True, False]).iloc[0]
        g.attrs["best"] = best
        g.attrs["pick"] = (int(pick["min_frequency"]), float(pick["C"]))
        world._cache["nb01_grid"] = g
    return world._cache["nb01_grid"]


@claim(
    "01-grid-within-noise",
    NOTEBOOK,
    "the grid's runner-up trails the highest validation AUC by less than one SD of their "
    "(paired) difference, and the truth orders the two the other way",
    specific=True,
)
def grid_within_noise(world: World) -> Finding:
    g = _grid(world)
    ranked = g.sort_values("auc", ascending=False)
    top, second = ranked.iloc[0], ranked.iloc[1]
    holds = bool(
        second["behind_best"] < second["sd_of_diff"]
        and second["expected_auc"] > top["expected_auc"]
    )
    shown = (
        f"runner-up {second['behind_best']:.4f} behind (sd {second['sd_of_diff']:.4f}), truth "
        f"{second['expected_auc'] - top['expected_auc']:+.4f}"
    )
    return Finding(float(second["behind_best"]), holds, shown=shown)


@claim(
    "01-one-se-rule-here",
    NOTEBOOK,
    "on this data, by the truth on the test rows (the expected AUC of each setting fitted on "
    "all training rows), the one-standard-error rule's pick is not the best of the six "
    "settings (4th, 0.0024 below it) but closer to it than the highest validation AUC's",
    specific=True,
)
def one_se_rule_here(world: World) -> Finding:
    rank, regret_rule, regret_max, shown = _one_se_regrets(world)
    holds = rank > 1 and regret_rule < regret_max
    return Finding(regret_rule, holds, shown=shown)


def _one_se_regrets(world: World) -> tuple[int, float, float, str]:
    g = _grid(world)
    top = float(g["test_eauc"].max())
    regret_rule = top - float(g.loc[g.attrs["pick"], "test_eauc"])
    regret_max = top - float(g.loc[g.attrs["best"], "test_eauc"])
    rank = int((g["test_eauc"] > g.loc[g.attrs["pick"], "test_eauc"]).sum()) + 1
    shown = f"pick {g.attrs['pick']} {rank} of 6 (short {regret_rule:.4f}; max {regret_max:.4f})"
    return rank, regret_rule, regret_max, shown


#: the rule's pick may fall short of the highest score's by this much in one world
ONE_SE_SLACK = 0.005


@claim(
    "01-one-se-rule",
    NOTEBOOK,
    "by the truth on the test rows, the one-standard-error rule's pick falls short of the "
    "truth's best setting by less on average than the highest validation AUC's, and is "
    f"rarely worse than it, then by little (at most {ONE_SE_SLACK}); measured per world "
    "(shown: both shortfalls). On the shipped data, worlds 101-110 and the fresh worlds "
    "201-203 (14 in all, measured once for review round 3): on average 0.0015 vs 0.0058, "
    "better in 7, equal in 6, worse in 1 (world 201: 0.0100 vs 0.0069)",
)
def one_se_rule(world: World) -> Finding:
    _, regret_rule, regret_max, shown = _one_se_regrets(world)
    holds = regret_rule <= regret_max + ONE_SE_SLACK
    return Finding(regret_max - regret_rule, holds, truth=holds, shown=shown)


@claim(
    "01-kind-depends-on-size",
    NOTEBOOK,
    "on a quarter of the training rows, a quarter or more of device_model's rows with a value "
    "sit in levels under 20 rows (the rule's ID-like); the column's kind depends on how much "
    "data there is (on worlds of 5,000 players it is ID-like by that rule on all the rows)",
)
def kind_depends_on_size(world: World) -> Finding:
    X = _split(world)["X_train"]
    share = float(
        encoding.column_report(X.sample(frac=0.25, random_state=0)).loc[
            "device_model", "small_level_row_share"
        ]
    )
    return Finding(share, share >= 0.25, shown=f"{share:.0%} of the rows on a quarter")


def _final(world: World) -> pd.DataFrame:
    """§6: the grid's pick by the one-standard-error rule, then three models fitted on all
    training rows and scored once on the test rows (with the paired noise of the two one-hot
    models' difference, and the columns of the fitted encoder, in ``attrs``)."""
    if "nb01_final" not in world._cache:
        s = _split(world)
        cols = NOMINAL + ORDINAL + HIGH_CARDINALITY
        mf, C = _grid(world).attrs["pick"]
        grouped = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=mf)
        models = {
            "codes": (CODES, NOMINAL + ORDINAL),
            "onehot": (grouped, NOMINAL + ORDINAL),
            "onehot_hc": (grouped, cols),
        }
        pred, fitted = {}, {}
        with threadpool_limits(1):
            for k, (enc, c) in models.items():
                fitted[k] = make_pipeline(
                    make_column_transformer((enc, c)), LogisticRegression(C=C, max_iter=1000)
                ).fit(s["X_train"], s["y_train"])
                pred[k] = fitted[k].predict_proba(s["X_test"])[:, 1]
        t = encoding.truth_scores(s["p_test"], pred, s["y_test"])
        diff = encoding.auc_redraws(s["p_test"], pred["onehot_hc"], n_draws=300) - (
            encoding.auc_redraws(s["p_test"], pred["onehot"], n_draws=300)
        )
        t.attrs["paired_sd"] = float(diff.std())
        ohe = fitted["onehot_hc"][0].transformers_[0][1]
        t.attrs["levels"] = {
            col: (len(levels), len(levels) - (0 if rare is None else len(rare)))
            for col, levels, rare in zip(
                ohe.feature_names_in_, ohe.categories_, ohe.infrequent_categories_, strict=True
            )
        }
        camp = list(ohe.feature_names_in_).index("campaign_id")
        rare = ohe.infrequent_categories_[camp]
        t.attrs["campaign_kept"] = [
            v for v in ohe.categories_[camp] if rare is None or v not in set(rare)
        ]
        world._cache["nb01_final"] = t
    return world._cache["nb01_final"]


@claim(
    "01-test-auc-within-noise",
    NOTEBOOK,
    "each test AUC lies within a few noise standard deviations of its expected AUC",
)
def auc_within_noise(world: World) -> Finding:
    t = _final(world)
    z = float(((t["auc"] - t["expected_auc"]).abs() / t["auc_noise_sd"]).max())
    return Finding(z, z < 3, truth=z < 3, shown=f"at most {z:.1f} sd")


@claim(
    "01-final-codes-lose",
    NOTEBOOK,
    "alphabetical codes lose to both one-hot models on the test AUC, the log loss and against "
    "the truth",
)
def final_codes_lose(world: World) -> Finding:
    t = _final(world)
    c, rest = t.loc["codes"], t.loc[["onehot", "onehot_hc"]]
    holds = bool(
        (rest["auc"] > c["auc"]).all()
        and (rest["log_loss"] < c["log_loss"]).all()
        and (rest["expected_auc"] > c["expected_auc"]).all()
        and (rest["expected_log_loss"] < c["expected_log_loss"]).all()
    )
    gap = float(rest["expected_auc"].min() - c["expected_auc"])
    truth = bool((rest["expected_auc"] > c["expected_auc"]).all())
    return Finding(gap, holds, truth=truth, shown=f"expected AUC at least {gap:+.3f}")


@claim(
    "01-final-hc-columns",
    NOTEBOOK,
    "with the chosen min_frequency, some rare countries and languages share an 'infrequent' "
    "column in both one-hot models, and device and campaign keep a column for only a small "
    "share (under a tenth) of their levels, one of campaign's being the missing value "
    "(organic installs) (on this data: where the rule picks min_frequency=20 on a world of "
    "5,000 players, no country is that rare)",
    specific=True,
)
def final_hc_columns(world: World) -> Finding:
    levels = _final(world).attrs["levels"]
    grouped = {c for c in ("country", "language") if levels[c][1] < levels[c][0]}
    share = max(kept / n for c, (n, kept) in levels.items() if c in HIGH_CARDINALITY)
    organic = any(pd.isna(v) for v in _final(world).attrs["campaign_kept"])
    holds = bool(grouped) and share < 0.1 and organic
    shown = (
        f"grouped: {sorted(grouped)}; at most {share:.0%} of device/campaign levels kept; "
        f"missing campaign kept: {organic}"
    )
    return Finding(share, holds, shown=shown)


@claim(
    "01-final-onehot-close",
    NOTEBOOK,
    "adding device and campaign changes the test AUC by less than two SDs of the (paired) "
    "difference; the truth's difference (exact) is tiny, under 0.005, and in most worlds "
    "positive (the sign is shown per world; device_model has a small real effect)",
)
def final_onehot_close(world: World) -> Finding:
    t = _final(world)
    d_auc = float(t.loc["onehot_hc", "auc"] - t.loc["onehot", "auc"])
    d_true = float(t.loc["onehot_hc", "expected_auc"] - t.loc["onehot", "expected_auc"])
    sd = t.attrs["paired_sd"]
    holds = abs(d_auc) < 2 * sd and abs(d_true) < 0.005
    shown = f"test {d_auc:+.4f} (paired sd {sd:.4f}), truth {d_true:+.4f}"
    return Finding(d_true, holds, truth=abs(d_true) < 0.005, shown=shown)


@claim(
    "01-paired-sd-smaller",
    NOTEBOOK,
    "the SD of the two one-hot models' AUC difference over redrawn labels is far smaller (under "
    "half) than the noise SD of one test AUC",
)
def paired_sd_smaller(world: World) -> Finding:
    t = _final(world)
    ratio = t.attrs["paired_sd"] / float(t.loc["onehot", "auc_noise_sd"])
    return Finding(ratio, ratio < 0.5, truth=ratio < 0.5, shown=f"ratio {ratio:.2f}")


@claim(
    "01-test-few-payers",
    NOTEBOOK,
    "on this test set every log loss lies below its expected value, and the test labels hold "
    "fewer payers than the true probabilities imply, by more than two SDs of that count",
    specific=True,
)
def few_test_payers(world: World) -> Finding:
    t, s = _final(world), _split(world)
    below = bool((t["log_loss"] < t["expected_log_loss"]).all())
    p = s["p_test"]
    z = float((s["y_test"].sum() - p.sum()) / np.sqrt(np.sum(p * (1 - p))))
    return Finding(z, below and z < -2, shown=f"z = {z:.2f}, all below {below}")


@claim(
    "01-all-few-payers",
    NOTEBOOK,
    "over all players of this data, too, the labels hold fewer payers than the true "
    "probabilities imply, by more than two SDs of that count",
    specific=True,
)
def all_few_payers(world: World) -> Finding:
    truth = world.payer_truth()
    p, y = truth["p_payer"].to_numpy(), truth["is_payer"].to_numpy().astype(float)
    z = float((y.sum() - p.sum()) / np.sqrt(np.sum(p * (1 - p))))
    return Finding(z, z < -2, shown=f"z = {z:.2f} over {p.size:,} players")


#: the chi-square statistic with 10 degrees of freedom exceeds this with probability 0.001
CHI2_10_999 = 29.59


@claim(
    "01-labels-unbiased",
    NOTEBOOK,
    "the labels are drawn as Bernoulli(p_payer): by decile of p_payer, the payer counts match "
    "the sums of the true probabilities (chi-square over the ten deciles below its 99.9 % "
    "point), so a shortfall of payers is a draw of luck, not a bias",
)
def labels_unbiased(world: World) -> Finding:
    truth = world.payer_truth()
    p, y = truth["p_payer"].to_numpy(), truth["is_payer"].to_numpy().astype(float)
    decile = np.minimum((np.argsort(np.argsort(p)) * 10) // p.size, 9)
    stat = sum(
        (y[decile == d].sum() - p[decile == d].sum()) ** 2
        / np.sum(p[decile == d] * (1 - p[decile == d]))
        for d in range(10)
    )
    holds = bool(stat < CHI2_10_999)
    return Finding(float(stat), holds, truth=holds, shown=f"chi-square {stat:.1f} (10 df)")


@pytest.mark.parametrize("claim_id", notebook_claims(NOTEBOOK))
def test_claim(claim_id, worlds, record_verdict):
    verdict = judge(REGISTRY[claim_id], worlds["shipped"], worlds["simulated"])
    record_verdict(verdict)
    assert verdict.ok, f"{claim_id}: " + "; ".join(verdict.problems())
