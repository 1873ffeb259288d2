"""Groups in the core: picking by filter, the group vector, index files, saving with the run, and
hostile saved groups and index files."""
import numpy as np
import pytest

from vaestudio.core.config import TrainConfig
from vaestudio.core.data.base import array_dataset
from vaestudio.core.errors import DataError, VaeStudioError
from vaestudio.core.kinds import make_model_config
from vaestudio.core.latent import (GROUPS_KEY, MAX_GROUPS, Encodings, Group, attribute_mask, dataset_identity,
                                   find_group, group_vector, groups_for, make_group, mean_difference,
                                   parse_vector_name, read_groups, read_index_file, select, vector_name,
                                   write_groups, write_index_file)
from vaestudio.core.latent.attributes import _strata
from vaestudio.core.run import Run

NAMES = ["Smiling", "Eyeglasses", "Young"]


def small_encodings(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    attrs = (rng.random((n, len(NAMES))) < 0.5).astype(np.uint8)
    labels = rng.integers(0, 3, n).astype(np.int64)
    return Encodings(codes=rng.normal(size=(n, d)).astype(np.float32), labels=labels, attributes=attrs,
                     label_names=["cat", "dog", "owl"], attribute_names=list(NAMES), split="validation")


# -- select ------------------------------------------------------------------------------------------

def test_select_joins_terms_with_and_and_negates_with_not():
    enc = small_encodings()
    s, e = enc.attributes[:, 0] > 0, enc.attributes[:, 1] > 0
    assert np.array_equal(select(enc, "Smiling"), np.flatnonzero(s))
    assert np.array_equal(select(enc, "smiling AND not Eyeglasses"), np.flatnonzero(s & ~e))
    assert np.array_equal(select(enc, "not Smiling and not eyeglasses"), np.flatnonzero(~s & ~e))
    assert np.array_equal(select(enc, "label=2 and Young"),
                          np.flatnonzero((enc.labels == 2) & (enc.attributes[:, 2] > 0)))
    assert np.array_equal(select(enc, "dog"), np.flatnonzero(enc.labels == 1))
    assert select(enc, "Smiling and not Smiling").size == 0
    assert select(enc, "1").dtype == np.int64


@pytest.mark.parametrize("query, words", [("Blond_Hair", ["Blond_Hair", "known", "Smiling"]),
                                          ("Smiling and ", ["empty"]), ("   ", ["empty filter"]),
                                          ("Smiling and not", ["empty term"])])
def test_select_refuses_unknown_or_empty_terms_naming_them(query, words):
    with pytest.raises(VaeStudioError) as e:
        select(small_encodings(), query)
    for w in words:
        assert w in str(e.value)


# -- group_vector ------------------------------------------------------------------------------------

def test_group_vector_is_the_difference_of_the_group_means():
    enc = small_encodings()
    a = make_group("left", "validation", [0, 3, 5, 7])
    b = make_group("right", "validation", [1, 2, 3, 20, 30])  # overlapping groups are allowed
    v = group_vector(enc, a, b)
    want = enc.codes[[1, 2, 3, 20, 30]].astype(np.float64).mean(0) - enc.codes[[0, 3, 5, 7]].mean(0)
    assert np.allclose(v.delta, want, atol=1e-6)
    assert (v.n_with, v.n_without, v.name, v.balanced_on, v.dropped) == (5, 4, "left \u2192 right", (), 0)
    raw = group_vector(enc, np.array([0, 3, 5, 7]), [30, 20, 3, 2, 1, 1], name="x")  # arrays, unsorted, repeats
    assert np.allclose(raw.delta, v.delta) and raw.name == "x"
    assert group_vector(enc, [0], [1]).name == "A \u2192 B"


def test_balanced_group_vector_matches_stratified_mean_difference():
    # Constructed: A = rows without Smiling, B = rows with it (so the two groups partition the split),
    # balanced on Eyeglasses; this is exactly what mean_difference with strata computes.
    enc = small_encodings(n=200, seed=3)
    smiling = attribute_mask(enc, "Smiling")
    want, dropped = mean_difference(enc.codes, smiling, _strata(enc, ["Eyeglasses"]))
    v = group_vector(enc, np.flatnonzero(~smiling), np.flatnonzero(smiling), balance_on=["Eyeglasses"])
    assert np.allclose(v.delta, want, atol=1e-6) and v.dropped == dropped == 0
    assert v.balanced_on == ("Eyeglasses",)
    plain = group_vector(enc, np.flatnonzero(~smiling), np.flatnonzero(smiling))
    assert not np.allclose(plain.delta, v.delta)  # balancing changed it on this data

    # By hand on a tiny case: stratum 0 has both groups, stratum 1 only group B (dropped).
    codes = np.array([[0.0], [2.0], [10.0], [14.0], [100.0]], dtype=np.float32)
    attrs = np.array([[0], [0], [0], [0], [1]], dtype=np.uint8)
    tiny = Encodings(codes=codes, attributes=attrs, attribute_names=["G"], split="test")
    v = group_vector(tiny, [0, 1], [2, 3, 4], balance_on=["G"])
    assert np.allclose(v.delta, [12.0 - 1.0]) and v.dropped == 1


def test_group_vector_refuses_empty_out_of_range_wrong_split_and_unbalanceable_groups():
    enc = small_encodings()
    with pytest.raises(VaeStudioError, match="empty"):
        group_vector(enc, make_group("none", "validation", []), [1])
    with pytest.raises(VaeStudioError, match="index 40 .* only 40 images"):
        group_vector(enc, [0], [40])
    with pytest.raises(VaeStudioError, match="'t' was picked on the test split"):
        group_vector(enc, make_group("t", "test", [0]), [1])
    with pytest.raises(VaeStudioError, match="in both groups"):
        only = np.flatnonzero(enc.attributes[:, 1] > 0)
        others = np.flatnonzero(enc.attributes[:, 1] == 0)
        group_vector(enc, only, others, balance_on=["Eyeglasses"])
    with pytest.raises(VaeStudioError, match="Nope"):
        group_vector(enc, [0], [1], balance_on=["Nope"])


def test_vector_names_round_trip_and_other_names_are_not_group_vectors():
    assert parse_vector_name(vector_name("smiling people", "B 2")) == ("smiling people", "B 2")
    for other in ("Smiling", "group:", "group:a", "group:\u2192b", None, 3):
        assert parse_vector_name(other) is None


# -- groups: checked making, JSON, the run --------------------------------------------------------

def test_make_group_normalises_and_refuses_bad_input():
    g = make_group("  mine ", "val", [5, 1, 5, 3])
    assert (g.name, g.split, g.indices.tolist(), g.indices.dtype) == ("mine", "validation", [1, 3, 5], np.int64)
    assert Group.from_json(g.to_json()).indices.tolist() == [1, 3, 5]
    empty = make_group("none", "test", [])
    assert len(empty) == 0 and bool(empty) and empty.indices.dtype == np.int64
    for name, split, indices, what in [("", "test", [1], "needs a name"), ("x" * 61, "test", [1], "at most 60"),
                                       ("a\nb", "test", [1], "control"), ("a\u2192b", "test", [1], "may not hold"),
                                       ("ok", "dev", [1], "not one of"), ("ok", "test", [-1], "out of range"),
                                       ("ok", "test", [True], "not a whole number"),
                                       ("ok", "test", [1.0], "not a whole number"),
                                       ("ok", "test", np.array([0.5]), "whole numbers"),
                                       ("ok", "test", np.array([-3]), "negative"), (7, "test", [1], "text")]:
        with pytest.raises(VaeStudioError, match=what):
            make_group(name, split, indices)


@pytest.mark.parametrize("entry, what", [
    ([1, 2], "mapping"), ({"name": "a", "split": "test"}, "no 'indices'"),
    ({"name": "a", "split": "test", "indices": "1,2"}, "should be a list"),
    ({"name": "a", "split": "test", "indices": [1, -2]}, "out of range"),
    ({"name": "a", "split": "test", "indices": [1, False]}, "not a whole number"),
    ({"name": "a", "split": "test", "indices": [1, 2.5]}, "not a whole number"),
    ({"name": "a", "split": "test", "indices": [2**70]}, "out of range"),
    ({"name": "a", "split": 3, "indices": [1]}, "not one of"),
    ({"name": None, "split": "test", "indices": [1]}, "must be text"),
    ({"name": "a", "split": "test", "indices": [1], "dataset": ["x"]}, "should be text"),
])
def test_from_json_refuses_hostile_entries_naming_where(entry, what):
    with pytest.raises(VaeStudioError) as e:
        Group.from_json(entry, where="run.pt: saved group 3")
    assert str(e.value).startswith("run.pt: saved group 3: ") and what in str(e.value)


def test_from_json_refuses_a_list_longer_than_any_split(monkeypatch):
    from vaestudio.core.latent import groups as groups_module
    monkeypatch.setattr(groups_module, "MAX_GROUP_SIZE", 10)
    with pytest.raises(VaeStudioError, match="more than the 10"):
        Group.from_json({"name": "a", "split": "test", "indices": list(range(11))})


def tiny_run():
    return Run.new(make_model_config(kind="vae", image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)),
                   TrainConfig(epochs=1, batch_size=8, seed=0, device="cpu"))


def test_read_groups_keeps_the_valid_and_names_each_dropped_entry():
    run = tiny_run()
    good = make_group("a", "test", [1, 2]).to_json()
    run.extra[GROUPS_KEY] = [good, {"name": "b"}, dict(good, name="A"), "junk",
                             *[dict(good, name=f"g{i}") for i in range(MAX_GROUPS + 2)]]
    groups, problems = read_groups(run)
    assert [g.name for g in groups][:2] == ["a", "g0"] and len(groups) == MAX_GROUPS
    assert len(problems) == 4
    assert "saved group 2" in problems[0] and "no 'split'" in problems[0]
    assert "second group named 'A'" in problems[1] and "mapping" in problems[2]
    assert "past the first 64" in problems[3]
    run.extra[GROUPS_KEY] = ["junk"] * 100_000 + [good]  # damage is reported briefly, not entry by entry
    groups, problems = read_groups(run)
    assert groups == [] and len(problems) == 17 and "99985 more saved groups not read" in problems[-1]
    run.extra[GROUPS_KEY] = {"a": 1}
    assert read_groups(run)[0] == [] and "should be a list" in read_groups(run)[1][0]
    del run.extra[GROUPS_KEY]
    assert read_groups(run) == ([], [])


def test_write_groups_refuses_clashes_and_too_many():
    run = tiny_run()
    with pytest.raises(VaeStudioError, match="named 'X'"):
        write_groups(run, [make_group("x", "test", [1]), make_group("X", "test", [2])])
    with pytest.raises(VaeStudioError, match="at most 64"):
        write_groups(run, [make_group(f"g{i}", "test", [1]) for i in range(MAX_GROUPS + 1)])
    write_groups(run, [])
    assert GROUPS_KEY not in run.extra


def test_groups_survive_saving_and_reopening_the_run(tmp_path):
    run = tiny_run()
    ds = array_dataset(np.zeros((50, 1, 8, 8), np.uint8), name="zeros")
    ident = dataset_identity(ds)
    assert ident == "zeros 40/5/5"
    made = [make_group("Smiling ones", "validation", [4, 0, 2], ident), make_group("b", "test", [1])]
    write_groups(run, made)
    run.save(tmp_path / "r")
    back = Run.load(tmp_path / "r")
    groups, problems = read_groups(back)
    assert problems == []
    assert [(g.name, g.split, g.indices.tolist(), g.dataset) for g in groups] == \
        [("Smiling ones", "validation", [0, 2, 4], ident), ("b", "test", [1], "")]
    assert find_group(groups, "smiling ONES") is groups[0] and find_group(groups, "c") is None
    assert groups_for(groups, "val", ident, 5) == [groups[0]]
    assert groups_for(groups, "validation", ident, 4) == []  # index 4 does not fit 4 rows
    assert groups_for(groups, "validation", "other 1/2/3", 10) == []
    assert groups_for(groups, "test", "other 1/2/3", 10) == [groups[1]]  # no identity: fits any


# -- index files ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".txt", ".csv", ".npy"])
def test_index_files_round_trip(tmp_path, suffix):
    path = tmp_path / f"g{suffix}"
    write_index_file(path, [9, 2, 2, 0])
    assert read_index_file(path, 10).tolist() == [0, 2, 9]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_text_index_files_take_commas_comments_and_a_header(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("index\n3, 1 # the first two\n\n7;4\n# done\n")
    assert read_index_file(path, 8).tolist() == [1, 3, 4, 7]


@pytest.mark.parametrize("text, what", [
    ("1\n2\n-3\n", "line 3: '-3' is not an index"), ("1\n2.5\n", "line 2: '2.5'"),
    ("0\n10\n", "line 2: index 10 is out of range"), ("1\ntrue\n", "line 2: 'true'"),
    ("# nothing\n", "holds no indices"), ("5\n" + "9" * 40 + "\n", "line 2: index 9999"),
])
def test_hostile_text_index_files_are_refused_naming_file_and_line(tmp_path, text, what):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataError) as e:
        read_index_file(path, 10)
    assert str(e.value).startswith(str(path)) and what in str(e.value)


def test_hostile_binary_and_oversized_index_files_are_refused(tmp_path, monkeypatch):
    from vaestudio.core.latent import groups as groups_module
    cases = {"float.npy": np.zeros(3), "two_d.npy": np.zeros((2, 2), np.int64),
             "neg.npy": np.array([1, -1]), "big.npy": np.array([3, 99])}
    for name, arr in cases.items():
        np.save(tmp_path / name, arr)
    np.save(tmp_path / "obj.npy", np.array([1, "x"], dtype=object), allow_pickle=True)  # pickled objects
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with open(tmp_path / "huge.npy", "wb") as f:  # a small file declaring 10**12 indices
        np.lib.format.write_array_header_1_0(f, {"descr": "<i8", "fortran_order": False, "shape": (10**12,)})
    (tmp_path / "cut.npy").write_bytes((tmp_path / "neg.npy").read_bytes()[:-4])
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "g.json").write_text("[1]")
    for name, what in [("float.npy", "whole numbers"), ("two_d.npy", "1-D"), ("neg.npy", "entry 1: index -1"),
                       ("big.npy", "entry 1: index 99"), ("obj.npy", "whole numbers"),
                       ("junk.npy", "not a .npy"), ("huge.npy", "declares 1,000,000,000,000 indices"),
                       ("cut.npy", "truncated"), ("bin.txt", "not UTF-8"),
                       ("g.json", "use .txt, .csv, .npy"), ("missing.txt", "no such file")]:
        with pytest.raises(DataError) as e:
            read_index_file(tmp_path / name, 10)
        assert str(tmp_path / name) in str(e.value) and what in str(e.value), (name, str(e.value))
    monkeypatch.setattr(groups_module, "MAX_INDEX_FILE_BYTES", 16)
    (tmp_path / "long.txt").write_text("1\n" * 20)
    with pytest.raises(DataError, match="may be at most"):
        read_index_file(tmp_path / "long.txt", 10)
