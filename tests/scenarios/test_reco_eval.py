"""The evaluation (scenarios._reco._eval) and ``assocsim reco eval`` on the committed
dataset excerpts (tests/data): every figure is there, sane, and the same run after run."""

from __future__ import annotations

import json
import lzma
from collections import Counter
from pathlib import Path

import pytest

from protocol import EngineConfig
from scenarios._cli._main import main
from scenarios._model._datasets import load_dataset
from scenarios._reco._baselines import (
    CoCounts,
    CoOccurrence,
    FpGrowth,
    Popularity,
    fpgrowth_available,
    fpgrowth_support,
)
from scenarios._reco._bootstrap import paired_bootstrap
from scenarios._reco._eval import (
    EVAL_NEIGHBOURS,
    EVAL_REFRESH,
    Evaluation,
    engine_config,
    evaluate,
    split_baskets,
)
from scenarios._reco._personal import CountHistory, PersonalPopularity, TifuKnn

DATA = Path(__file__).resolve().parent.parent / "data"
METHODS = [
    "engine",
    "engine without habits",
    "popularity",
    "co-occurrence",
    "cosine",
    "personal popularity",
    "count + history",
    "TIFU-KNN",
]


@pytest.fixture(scope="module")
def journey() -> Evaluation:
    return evaluate(load_dataset("completejourney", DATA), fpgrowth=False, rounds=200)


@pytest.fixture(scope="module")
def retail() -> Evaluation:
    return evaluate(load_dataset("onlineretail", DATA), fpgrowth=False, rounds=200)


def test_every_method_has_every_figure(journey: Evaluation, retail: Evaluation) -> None:
    for evaluation in (journey, retail):
        assert [r.method for r in evaluation.results] == METHODS
        queries = evaluation.results[0].queries
        assert queries > 1000
        for r in evaluation.results:
            assert r.queries == queries  # the same questions for every method
            assert 0 < r.small_queries < r.queries
            assert 0.0 <= r.complement_hit_rate <= r.small_hit_rate <= 1.0
            assert 0.0 < r.hit_rate <= 1.0
            assert 0.0 < r.answered_share <= 1.0 and 0.0 < r.coverage <= 1.0
        assert evaluation.result("popularity").complement_hit_rate == 0.0
        assert evaluation.result("popularity").answered_share == 1.0


def test_the_engine_learns_something_on_real_baskets(journey: Evaluation) -> None:
    engine = journey.result("engine")
    assert engine.small_hit_rate > journey.result("popularity").small_hit_rate
    assert engine.small_hit_rate > journey.result("engine without habits").small_hit_rate
    assert engine.complement_hit_rate > journey.result("co-occurrence").complement_hit_rate


def test_table_and_json(journey: Evaluation) -> None:
    table = journey.format_table()
    assert table.splitlines()[0].startswith("completejourney, time split, train history: ")
    for method in METHODS:
        assert f"\n{method} " in table
    rows = journey.as_json()
    assert [row["method"] for row in rows] == METHODS
    assert set(rows[0]) >= {
        "dataset",
        "split",
        "hit_rate",
        "hit_rate_2_10",
        "complement_hit_rate_2_10",
        "answered",
        "coverage",
        "fit_seconds",
        "answer_seconds",
    }


def test_the_evaluation_is_deterministic(retail: Evaluation) -> None:
    again = evaluate(load_dataset("onlineretail", DATA), fpgrowth=False, rounds=200)
    assert [r.as_dict() | _no_time() for r in again.results] == [
        r.as_dict() | _no_time() for r in retail.results
    ]


def _no_time() -> dict[str, float]:
    return {"fit_seconds": 0.0, "answer_seconds": 0.0, "fit_memory_mb": 0.0}


def test_splits() -> None:
    baskets = load_dataset("onlineretail", DATA).baskets
    train, test = split_baskets(baskets, "time")
    assert len(train) == int(len(baskets) * 0.8) and len(train) + len(test) == len(baskets)
    assert max(b.at for b in train) <= min(b.at for b in test)
    train, test = split_baskets(baskets, "random", seed=1)
    assert len(train) == int(len(baskets) * 0.8)
    assert {b.receipt_id for b in train}.isdisjoint(b.receipt_id for b in test)
    assert [b.at for b in test] == sorted(b.at for b in test)
    with pytest.raises(ValueError, match="unknown split"):
        split_baskets(baskets, "sideways")


def test_baselines_on_hand_made_baskets() -> None:
    train = [(0, 1, 2), (0, 1), (0, 3), (1, 2), (4, 5), (4, 5), (0, 1, 5)]
    shoppers: list[str | None] = [None] * len(train)
    popularity = Popularity()
    popularity.fit(train, shoppers)
    assert popularity.recommend(0, None, 2) == [1, 5]  # 0 and 1 sold 4 times, 5 three times
    counts = CoCounts()
    count = CoOccurrence(counts, cosine=False)
    cosine = CoOccurrence(counts, cosine=True)
    count.fit(train, shoppers)
    cosine.fit(train, shoppers)
    assert count.recommend(0, None, 3) == [1, 2, 3]  # 3 baskets with 1; ties by id
    assert cosine.recommend(0, None, 1) == [1]
    assert cosine.recommend(3, None, 2) == [0]
    assert count.recommend(9, None, 3) == []


TRAIN = [(0, 1, 2), (0, 1), (0, 3), (1, 2), (4, 5), (4, 5), (0, 1, 5), (7, 8), (7, 9)]
SHOPPERS: list[str | None] = ["a", "a", "b", "b", None, None, "c", "d", "d"]


def test_personal_popularity_is_the_shoppers_own_then_the_best_sellers() -> None:
    method = PersonalPopularity(Popularity())
    method.fit(TRAIN, SHOPPERS)
    # d bought 7 twice, 8 and 9 once (ties by popularity, then id); then best sellers
    assert method.recommend(7, "d", 3) == [8, 9, 0]
    assert method.recommend(0, None, 2) == [1, 5]  # no history: the best sellers
    method.grow((9,), "d")  # the growing history: 9 is now d's second product
    assert method.recommend(7, "d", 2) == [9, 8]


def test_count_plus_history_sums_confidence_and_the_shoppers_profile() -> None:
    method = CountHistory(CoCounts(), Popularity())
    method.fit(TRAIN, SHOPPERS)
    # given 4: P(5 | 4) = 1; shopper b: P_b(0) = P_b(1) = P_b(2) = P_b(3) = 1/2, and
    # 0 and 1 (4 baskets each) are more popular than 2 and 3
    assert method.recommend(4, "b", 3) == [5, 0, 1]
    # given 2, shopper b: 1 gets P(1 | 2) = 1 and P_b(1) = 1/2
    assert method.recommend(2, "b", 2) == [1, 0]
    # given 0 without history: confidence only, 1 (3/4) before 2, 3, 5 (1/4; by popularity)
    assert method.recommend(0, None, 3) == [1, 5, 2]


def test_tifu_knn_blends_the_shoppers_decayed_history_with_its_neighbours() -> None:
    popularity = Popularity()
    method = TifuKnn(popularity, group=2, neighbours=1, alpha=0.5)
    # the newest basket of a group counts more: b's group is (0, 3) then (1, 2)
    assert method.vector([(0, 3), (1, 2)]) == pytest.approx(
        {0: 0.9 / 2, 3: 0.9 / 2, 1: 0.5, 2: 0.5}
    )
    method.fit(TRAIN, SHOPPERS)
    answer = method.recommend(1, "a", 4)
    assert answer[:2] == [0, 2]  # a's own products first
    assert 3 in answer  # from its nearest neighbour, b (c only bought 0, 1, 5)
    assert method.recommend(0, None, 2) == [1, 5]


def test_paired_bootstrap_interval() -> None:
    questions = [4] * 200
    better = [3] * 100 + [2] * 100
    worse = [1] * 100 + [2] * 100
    found = paired_bootstrap(better, worse, questions, rounds=200)
    assert found.value == pytest.approx(200 / 800)
    assert 0 < found.low < found.value < found.high
    assert found.above_zero and found.format() == f"+0.250 [{found.low:+.3f}, {found.high:+.3f}]"
    tie = paired_bootstrap([1, 2] * 100, [2, 1] * 100, questions, rounds=200)
    assert tie.low < 0 < tie.high and not tie.above_zero
    assert paired_bootstrap(better, worse, questions, rounds=200, seed=3) == paired_bootstrap(
        better, worse, questions, rounds=200, seed=3
    )


def test_fpgrowth_support_bounds_the_estimated_memory() -> None:
    small = Counter({p: 100 for p in range(50)})
    assert fpgrowth_support(small, 10_000) == (0.001, 50)  # fits: the floor support
    wide = Counter({p: 1000 - p // 10 for p in range(10_000)})
    support, kept = fpgrowth_support(wide, 10_000, budget=1 << 30)
    assert 0 < kept < 10_000
    assert 10_000 * kept + kept * (kept - 1) // 2 * 400 <= 1 << 30
    assert all((c >= support * 10_000) == (n < kept) for n, c in enumerate(wide.values()))
    assert fpgrowth_support(wide, 0) == (1.0, 0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain-CSV Online Retail of the excerpt's first 2,000 lines (the CLI's tests)."""
    directory = tmp_path_factory.mktemp("tiny")
    with lzma.open(DATA / "online_retail.csv.xz", "rt", encoding="utf-8") as source:
        lines = [line for _, line in zip(range(2001), source, strict=False)]
    (directory / "online_retail.csv").write_text("".join(lines), encoding="utf-8")
    return directory


def test_fpgrowth_baseline_or_its_absence(tiny: Path) -> None:
    dataset = load_dataset("onlineretail", tiny)
    if fpgrowth_available():
        method = FpGrowth(0.3)
        method.fit([(0, 1), (0, 1), (0, 2), (1, 3)], [None] * 4)
        assert method.recommend(0, None, 2) == [1]  # confidence 2/3 (2 is below min_support)
    else:
        evaluation = evaluate(dataset, fpgrowth=None)
        assert any("pip install 'assocsim[eval]'" in note for note in evaluation.notes)
        assert "fpgrowth (mlxtend)" not in [r.method for r in evaluation.results]


# --------------------------------------------------------------------------- the command


def test_reco_eval_command_prints_the_table(capsys: pytest.CaptureFixture[str], tiny: Path) -> None:
    code = main(["reco", "eval", "--data", str(tiny), "--dataset", "onlineretail"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("onlineretail, time split, train history:")
    assert "engine - it, hit@5 2-10 [95% CI]" in out and "peak memory of the process" in out
    assert "engine without habits" in out and "cosine" in out


def test_reco_eval_json(capsys: pytest.CaptureFixture[str], tiny: Path) -> None:
    arguments = ["--data", str(tiny), "--dataset", "onlineretail", "--split", "random"]
    code = main(["reco", "eval", *arguments, "--json", "--no-fpgrowth", "--history", "growing"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["method"] for row in rows] == METHODS
    assert {row["split"] for row in rows} == {"random"}
    assert {row["history"] for row in rows} == {"growing"}
    assert rows[0]["engine_minus_this_2_10"] is None
    for row in rows[1:]:
        value, low, high = row["engine_minus_this_2_10"]
        assert low <= value <= high


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "/no/such/dir"], "assocsim: error: /no/such/dir: no such directory"),
        (["--data", "{tmp}"], "no completejourney_transactions.csv.xz or"),
        (["--data", "{tmp}", "--dataset", "groceries"], "invalid choice: 'groceries'"),
        (["--data", "{tmp}", "--history", "all"], "invalid choice: 'all'"),
        (["--data", "{tmp}", "--rounds", "10"], "expected a whole number >= 100, got '10'"),
    ],
)
def test_reco_eval_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arguments: list[str], message: str
) -> None:
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    try:
        code = main(["reco", "eval", *arguments])
    except SystemExit as exit_:  # argparse refuses a bad choice itself
        code = int(str(exit_.code))
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_the_engine_keeps_the_neighbours_chosen_for_the_dataset() -> None:
    assert engine_config("onlineretail").neighbours == EVAL_NEIGHBOURS["onlineretail"] == 128
    assert engine_config("completejourney").neighbours == 32
    other = engine_config("elsewhere")
    assert other.neighbours == EngineConfig().neighbours
    assert other.refresh_every == EVAL_REFRESH
