"""The evaluation (scenarios._reco._eval) and ``assocsim reco eval`` on the committed
dataset excerpts (tests/data): every figure is there, sane, and the same run after run."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from scenarios._cli._main import main
from scenarios._model._datasets import load_dataset
from scenarios._reco._eval import (
    Evaluation,
    _CoCounts,
    _CoOccurrence,
    _FpGrowth,
    _Popularity,
    evaluate,
    fpgrowth_available,
    split_baskets,
)

DATA = Path(__file__).resolve().parent.parent / "data"
METHODS = ["engine", "engine without habits", "popularity", "co-occurrence", "cosine"]


@pytest.fixture(scope="module")
def journey() -> Evaluation:
    return evaluate(load_dataset("completejourney", DATA), fpgrowth=False)


@pytest.fixture(scope="module")
def retail() -> Evaluation:
    return evaluate(load_dataset("onlineretail", DATA), fpgrowth=False)


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
    assert table.splitlines()[0].startswith("completejourney, time split: ")
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
    again = evaluate(load_dataset("onlineretail", DATA), fpgrowth=False)
    assert [r.as_dict() | _no_time() for r in again.results] == [
        r.as_dict() | _no_time() for r in retail.results
    ]


def _no_time() -> dict[str, float]:
    return {"fit_seconds": 0.0, "answer_seconds": 0.0}


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
    order = list(range(10))
    train = [(0, 1, 2), (0, 1), (0, 3), (1, 2), (4, 5), (4, 5), (0, 1, 5)]
    popularity = _Popularity(order)
    popularity.fit(train)
    assert popularity.recommend(0, 2) == [1, 5]  # 0 and 1 sold 4 times, 5 three times
    counts = _CoCounts()
    count = _CoOccurrence(counts, cosine=False)
    cosine = _CoOccurrence(counts, cosine=True)
    count.fit(train)
    cosine.fit(train)
    assert count.recommend(0, 3) == [1, 2, 3]  # 3 baskets with 1; ties by id
    assert cosine.recommend(0, 1) == [1]
    assert cosine.recommend(3, 2) == [0]
    assert count.recommend(9, 3) == []


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
        method = _FpGrowth(list(range(5)), 0.3)
        method.fit([(0, 1), (0, 1), (0, 2), (1, 3)])
        assert method.recommend(0, 2) == [1]  # confidence 2/3 (2 is below min_support)
    else:
        evaluation = evaluate(dataset, fpgrowth=None)
        assert any("pip install 'assocsim[eval]'" in note for note in evaluation.notes)
        assert "fpgrowth (mlxtend)" not in [r.method for r in evaluation.results]


# --------------------------------------------------------------------------- the command


def test_reco_eval_command_prints_the_table(capsys: pytest.CaptureFixture[str], tiny: Path) -> None:
    code = main(["reco", "eval", "--data", str(tiny), "--dataset", "onlineretail"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("onlineretail, time split:")
    assert "engine without habits" in out and "cosine" in out


def test_reco_eval_json(capsys: pytest.CaptureFixture[str], tiny: Path) -> None:
    arguments = ["--data", str(tiny), "--dataset", "onlineretail", "--split", "random"]
    code = main(["reco", "eval", *arguments, "--json", "--no-fpgrowth"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["method"] for row in rows] == METHODS
    assert {row["split"] for row in rows} == {"random"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "/no/such/dir"], "assocsim: error: /no/such/dir: no such directory"),
        (["--data", "{tmp}"], "no completejourney_transactions.csv.xz or"),
        (["--data", "{tmp}", "--dataset", "groceries"], "invalid choice: 'groceries'"),
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
