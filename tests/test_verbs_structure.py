"""Verbs import shared helper modules, never each other, and the helpers import no verb."""
import ast
from pathlib import Path

from vaestudio.cli import VERB_MODULES

VERBS_DIR = Path(__file__).resolve().parent.parent / "vaestudio" / "verbs"
HELPERS = {"common", "data_args", "numbers", "run_views"}


def sibling_imports(name: str) -> set[str]:
    """The vaestudio.verbs modules that verbs/NAME.py imports (anywhere in the file)."""
    tree = ast.parse((VERBS_DIR / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.level == 0 and (node.module or "").startswith("vaestudio.verbs."):
                found.add(node.module.split(".")[2])
    return found


def test_every_verb_module_exists_and_imports_only_helpers():
    for verb in VERB_MODULES:
        assert (VERBS_DIR / f"{verb}.py").is_file(), verb
        others = sibling_imports(verb)
        assert others <= HELPERS, f"verbs/{verb}.py imports the verb module(s) {others - HELPERS}"


def test_helpers_import_no_verb_and_data_args_stands_alone():
    for helper in HELPERS:
        assert sibling_imports(helper) <= HELPERS, helper
    assert sibling_imports("data_args") == set()
    assert sibling_imports("common") == {"data_args"}
