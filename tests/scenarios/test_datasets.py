"""Reading the datasets (scenarios._model._datasets) and replaying them as a scenario's purchases,
on the excerpts committed in tests/data (see tests/data/SOURCE.md)."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest

from protocol import (
    MAX_ITEMS_PER_PURCHASE,
)
from protocol.lowlevel import (
    is_phone_id,
)
from scenarios import (
    Scenario,
    ScenarioError,
    apply_overrides,
    generate_workload,
    run_scenario,
    scenario_from_dict,
)
from scenarios._model._datasets import DatasetError, colour_of, household_phone_id, load_dataset

DATA = Path(__file__).resolve().parent.parent / "data"


def test_complete_journey_excerpt() -> None:
    dataset = load_dataset("completejourney", DATA)
    assert dataset.name == "completejourney"
    assert len(dataset.baskets) > 2000
    times = [b.at for b in dataset.baskets]
    assert times == sorted(times)
    basket = dataset.baskets[0]
    assert basket.household and basket.store.startswith("store-")
    assert len(basket.skus) == len(set(basket.skus)) == len(basket.quantities)
    item = dataset.products[basket.skus[0]]
    assert item.category.count(" > ") == 2  # department > category > product type
    assert item.brand in {"National", "Private"}
    assert item.colour == ""
    departments = {p.category.split(" > ")[0] for p in dataset.products.values()}
    assert not departments & {"FUEL", "COUPON"}


def test_online_retail_excerpt() -> None:
    dataset = load_dataset("onlineretail", DATA)
    assert len(dataset.baskets) > 500
    assert all(not b.receipt_id.startswith("C") for b in dataset.baskets)
    assert all(q > 0 for b in dataset.baskets for q in b.quantities)
    for sku, item in dataset.products.items():
        assert sku[:5].isdigit() and item.category == f"stem {sku[:5]}"
    colours = {item.colour for item in dataset.products.values()}
    assert {"red", "pink", "white"} <= colours


def test_lines_and_uploads_carry_quantities_and_prices() -> None:
    dataset = load_dataset("onlineretail", DATA)
    basket = dataset.baskets[0]
    upload = dataset.upload(
        basket,
        merchant_id="online",
        pos_id="pos-1",
        phone_id=household_phone_id(basket.household),
        at=0.0,
    )
    assert [i.sku for i in upload.items] == list(basket.skus)
    assert [i.quantity for i in upload.items] == list(basket.quantities)
    assert [i.price for i in upload.items] == list(basket.prices)
    assert all(i.quantity == 1 for i in dataset.items(basket))


def test_colour_words_and_phone_ids() -> None:
    assert colour_of("JUMBO BAG RED RETROSPOT") == "red"
    assert colour_of("CREAM CUPID HEARTS COAT HANGER") == "beige"
    assert colour_of("SET OF 3 CAKE TINS") == ""
    assert household_phone_id("900") == "+8613900000900"
    assert household_phone_id("17850") == "+8613900017850"
    assert is_phone_id(household_phone_id("2500"))


def test_select_a_window_and_households() -> None:
    dataset = load_dataset("completejourney", DATA)
    start = dataset.baskets[100].at
    end = dataset.baskets[600].at
    window = dataset.select(start=start, end=end)
    assert window and all(start <= b.at < end for b in window)
    three = dataset.select(start=start, households=3)
    assert len({b.household for b in three}) == 3
    assert {b.household for b in three} == {b.household for b in window[:40]} & {
        b.household for b in three
    }


def _write(path: Path, text: str) -> None:
    path.write_bytes(lzma.compress(text.encode()))


@pytest.mark.parametrize(
    ("name", "files", "message"),
    [
        ("nowhere", {}, "unknown dataset 'nowhere' (known: completejourney, onlineretail)"),
        ("onlineretail", {}, "no online_retail.csv.xz or online_retail.csv here"),
        ("onlineretail", {"online_retail.csv.xz": "a,b\n1,2\n"}, "not the expected CSV"),
        (
            "onlineretail",
            {
                "online_retail.csv.xz": "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,"
                "UnitPrice,CustomerID,Country\n536365,85123A,X,many,2010-12-01 08:26,2.5,1,UK\n"
            },
            "line 2: invalid literal for int()",
        ),
        (
            "completejourney",
            {"completejourney_transactions.csv.xz": "x\n"},
            "no completejourney_products.csv.xz or completejourney_products.csv here",
        ),
    ],
)
def test_bad_data_is_one_line(
    tmp_path: Path, name: str, files: dict[str, str], message: str
) -> None:
    for file, text in files.items():
        _write(tmp_path / file, text)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(name, tmp_path)


def test_missing_directory_and_broken_xz(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such directory"):
        load_dataset("onlineretail", tmp_path / "absent")
    (tmp_path / "online_retail.csv.xz").write_bytes(b"not xz at all")
    with pytest.raises(DatasetError, match="cannot be read as CSV"):
        load_dataset("onlineretail", tmp_path)


# --------------------------------------------------------------------------- the source knob


def _source(*sets: str) -> Scenario:
    return apply_overrides(
        Scenario(purchases=200),
        ["source.dataset=completejourney", f"source.data={DATA}", *sets],
    )


def test_a_scenario_replays_the_dataset_baskets() -> None:
    scenario = _source("source.start=2017-03-01", "source.end=2017-05-01", "wrong_id_rate=0.1")
    workload = generate_workload(scenario, seed=3)
    dataset = load_dataset("completejourney", DATA)
    assert len(workload.purchases) == 200
    first = workload.purchases[0]
    assert first.at == 0.0
    basket = next(b for b in dataset.baskets if b.receipt_id == first.receipt_id)
    assert [i.sku for i in first.items] == list(basket.skus)
    assert first.merchant_id == basket.store
    assert all(0 < len(p.items) <= MAX_ITEMS_PER_PURCHASE for p in workload.purchases)
    assert [p.at for p in workload.purchases] == sorted(p.at for p in workload.purchases)
    buyers = {p.buyer_phone_id for p in workload.purchases}
    assert buyers == {p.phone_id for p in workload.phones}
    assert {p.merchant_id for p in workload.purchases} == {s.merchant_id for s in workload.shops}
    assert any(p.wrong_id for p in workload.purchases)
    assert generate_workload(scenario, seed=3) == workload


def test_households_limit_the_phones() -> None:
    workload = generate_workload(_source("source.households=4"), seed=0)
    assert len(workload.phones) == 4


def test_bad_source_settings_are_one_line() -> None:
    with pytest.raises(ScenarioError, match=r"source\.data: give the directory"):
        apply_overrides(Scenario(), ["source.dataset=onlineretail"])
    with pytest.raises(ScenarioError, match=r"source\.start: expected a date"):
        scenario_from_dict({"source": {"dataset": "onlineretail", "data": ".", "start": "May"}})
    with pytest.raises(ScenarioError, match=r"cloud\.recommender: expected one of 'rules'"):
        apply_overrides(Scenario(), ["cloud.recommender=magic"])
    with pytest.raises(ScenarioError, match="no completejourney basket"):
        generate_workload(_source("source.start=2030-01-01"), seed=0)


def test_a_trace_driven_run_keeps_every_promise() -> None:
    result = run_scenario(_source("purchases=60", "ask_probability=0.5"), seed=1)
    assert result.report.purchases == 60
    assert result.report.lost == 0 and result.report.duplicates == 0
    assert result.report.delivered >= 60
