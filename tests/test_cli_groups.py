"""`vaestudio groups` and `vaestudio attribute --from-group A --to-group B` on a tiny trained run."""
import json
import os
import shutil
import socket

import numpy as np
import pytest
from PIL import Image

from helpers import assert_refused, one_line, run_cli, run_cli_bounded, train_tiny_run
from vaestudio.core.latent import (GROUPS_KEY, apply_vector, decode_batch, encode_split, group_vector, read_groups,
                                   read_index_file, select, write_index_file)
from vaestudio.core.render import to_uint8_hwc
from vaestudio.core.run import Run
from vaestudio.verbs.common import open_run_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_run(tmp_path_factory)


@pytest.fixture
def run(trained, tmp_path):
    """A private copy of the trained run folder (the verbs change it)."""
    dest = tmp_path / "run"
    shutil.copytree(trained, dest)
    return str(dest)


def cli(argv, capsys):
    from vaestudio.cli import main

    rc = main(argv)
    out = capsys.readouterr()
    assert rc == 0, out.err
    return out.out


def test_groups_add_list_replace_export_and_remove(run, tmp_path, capsys):
    assert "no groups saved" in cli(["groups", run], capsys)
    assert "saved group 'ones'" in cli(["groups", run, "--add", "ones", "--where", "1"], capsys)
    cli(["groups", run, "--add", "rest", "--where", "not 1"], capsys)
    listed = json.loads(cli(["groups", run, "--json"], capsys))
    sizes = {g["name"]: g["size"] for g in listed["groups"]}
    ckpt = Run.load(run)
    ds = open_run_dataset(type("A", (), {"dataset": None, "data_root": None, "data_option": [],
                                          "download": False})(), ckpt)
    enc = encode_split(ckpt.model, ds, "validation")
    assert sizes == {"ones": len(select(enc, "1")), "rest": len(enc) - len(select(enc, "1"))}
    assert {g["dataset"] for g in listed["groups"]} == {f"mnist {len(ds.train)}/{len(ds.validation)}/{len(ds.test)}"}
    assert listed["problems"] == [] and {g["split"] for g in listed["groups"]} == {"validation"}
    text = cli(["groups", run], capsys)
    assert "ones" in text and "rest" in text and "validation" in text

    rc, err = run_cli(["groups", run, "--add", "ONES", "--where", "2"], capsys)
    one_line(rc, err, "'ones'", "--replace")
    cli(["groups", run, "--add", "ones", "--where", "2", "--replace"], capsys)
    out = tmp_path / "ones.npy"
    assert "-> " in cli(["groups", run, "--export", "ones", "--out", str(out)], capsys)
    assert read_index_file(out, len(enc)).tolist() == select(enc, "2").tolist()
    cli(["groups", run, "--add", "copy", "--indices", str(out)], capsys)
    cli(["groups", run, "--remove", "rest"], capsys)

    groups, problems = read_groups(Run.load(run))  # what reopening the run finds
    assert problems == [] and [g.name for g in groups] == ["ones", "copy"]
    assert groups[0].indices.tolist() == groups[1].indices.tolist() == select(enc, "2").tolist()
    assert not [p for p in os.listdir(run) if p.startswith(".")]  # no lock or temp file left behind


def test_attribute_from_saved_groups_and_from_index_files(run, tmp_path, capsys):
    cli(["groups", run, "--add", "ones", "--where", "1"], capsys)
    cli(["groups", run, "--add", "twos", "--where", "2"], capsys)
    common = ["--image", "3", "--steps", "3", "--scale", "1", "--max-alpha", "2"]
    by_name = tmp_path / "names.png"
    text = cli(["attribute", run, "--from-group", "ones", "--to-group", "twos", *common, "--out", str(by_name)],
               capsys)
    ckpt = Run.load(run)
    groups, _ = read_groups(ckpt)
    v = group_vector(encode_split(ckpt.model, open_run_dataset(_no_data_args(), ckpt), "validation"), *groups)
    line = next(x for x in text.splitlines() if x.startswith("group "))
    assert f"group ones ({len(groups[0])} images) -> group twos ({len(groups[1])} images)" in line
    assert f"|delta| = {float(np.linalg.norm(v.delta)):.3f}" in line

    # The first frame is the base image's own decoding (alpha 0); the last moves along delta.
    base = encode_split(ckpt.model, open_run_dataset(_no_data_args(), ckpt), "test").codes[3]
    frames = to_uint8_hwc(decode_batch(ckpt.model, apply_vector(base, v.delta, [0.0, 2.0])))[..., 0]
    strip = np.asarray(Image.open(by_name).convert("L")).astype(int)
    h, w = frames.shape[1:]
    assert np.abs(strip[2:2 + h, 2:2 + w] - frames[0]).max() <= 1
    last = strip[2:2 + h, 2 + 2 * (w + 2):2 + 2 * (w + 2) + w]
    assert np.abs(last - frames[1]).max() <= 1

    # The same groups as index files (.txt and .npy) give the same pictures.
    write_index_file(tmp_path / "a.txt", groups[0].indices)
    write_index_file(tmp_path / "b.npy", groups[1].indices)
    by_file = tmp_path / "files.png"
    text = cli(["attribute", run, "--from-group", str(tmp_path / "a.txt"), "--to-group", str(tmp_path / "b.npy"),
                *common, "--out", str(by_file)], capsys)
    assert f"a.txt ({len(groups[0])} images)" in text
    assert np.array_equal(np.asarray(Image.open(by_file)), np.asarray(Image.open(by_name)))


def _no_data_args():
    return type("A", (), {"dataset": None, "data_root": None, "data_option": [], "download": False})()


def _mark(run, **changes):
    """Rewrite the first saved group's fields in the run file."""
    ckpt = Run.load(run)
    ckpt.extra[GROUPS_KEY][0].update(changes)
    ckpt.save(ckpt.path)


def test_attribute_refuses_mixed_ways_and_mismatched_groups_in_one_line(run, tmp_path, capsys):
    cli(["groups", run, "--add", "ones", "--where", "1"], capsys)
    cli(["groups", run, "--add", "t", "--where", "1", "--split", "test"], capsys)
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n-4\n")
    tail = ["--image", "0", "--out", str(tmp_path / "x.png")]
    cases = [
        (["--attribute", "1", "--from-group", "ones", "--to-group", "ones"], ["--attribute", "not both"]),
        ([], ["--attribute NAME", "--from-group"]),
        (["--from-group", "ones"], ["--to-group", "go together"]),
        (["--from-group", "ones", "--to-group", "ones", "--weight", "2"], ["--weight", "--balance-on"]),
        (["--from-group", "ones", "--to-group", "nobody"], ["'nobody'", "saved: ones, t"]),
        (["--from-group", "ones", "--to-group", "t"], ["'t'", "test split", "--vector-split is validation"]),
        (["--from-group", "ones", "--to-group", str(bad)], [str(bad), "line 2", "'-4'"]),
        (["--from-group", "ones", "--to-group", str(tmp_path / "none.npy")], ["none.npy", "no such file"]),
    ]
    for argv, names in cases:
        rc, err = run_cli(["attribute", run, *argv, *tail], capsys)
        one_line(rc, err, *names)
    _mark(run, dataset="cifar10 50000/0/10000")
    rc, err = run_cli(["attribute", run, "--from-group", "ones", "--to-group", "ones", *tail], capsys)
    one_line(rc, err, "'ones'", "cifar10 50000/0/10000", "mnist ")


def test_groups_verb_refuses_bad_requests_damage_and_a_locked_run(run, tmp_path, capsys):
    cli(["groups", run, "--add", "ones", "--where", "1"], capsys)
    for argv, names in [(["--add", "x"], ["--where QUERY"]), (["--where", "1"], ["go with --add"]),
                        (["--export", "ones"], ["--out"]), (["--remove", "nobody"], ["'nobody'", "saved: ones"]),
                        (["--add", "x", "--where", "Smiling"], ["'Smiling'"]),
                        (["--add", "x", "--where", "1 and not 1"], ["matches no image"]),
                        (["--add", "a\u2192b", "--where", "1"], ["may not hold"]),
                        (["--export", "ones", "--out", "x.json"], ["x.json"]),
                        (["--json", "--remove", "ones"], ["--json"])]:
        rc, err = run_cli(["groups", run, *argv], capsys)
        one_line(rc, err, *names)

    missing = str(tmp_path / "nowhere" / "model.pt")
    one_line(*run_cli(["groups", missing, "--add", "x", "--where", "1"], capsys), missing, "no such file")

    _mark(run, indices=[1, -2])  # a damaged saved group: listed as a warning, the rest still works
    rc, err = run_cli(["groups", run], capsys)
    assert rc == 0 and len(err) == 1 and "warning" in err[0] and "saved group 1" in err[0]

    before = (tmp_path / "run" / "model.pt").read_bytes()
    lock = tmp_path / "run" / ".vaestudio-lock"
    lock.write_text(f"{os.getppid()} {socket.gethostname()}\n")  # a live process that is not this one
    rc, err = run_cli(["groups", run, "--add", "y", "--where", "1"], capsys)
    one_line(rc, err, "in use by another VAE Studio process")
    assert (tmp_path / "run" / "model.pt").read_bytes() == before


def test_a_huge_index_file_costs_nothing_to_refuse(trained, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:  # 2 GB of nothing (sparse): refused by its size, never read
        f.truncate(2 * 1024**3)
    result = run_cli_bounded(["attribute", str(trained), "--from-group", str(big), "--to-group", str(big),
                              "--image", "0", "--out", str(tmp_path / "x.png")], tmp_path)
    assert_refused(result, str(big), "may be at most 64 MiB")
