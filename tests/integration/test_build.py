"""The deployable artifacts: the CoreLayer as layers/relance/Makefile builds it, and the whole `make build`.

The layer is built for the Lambda runtime (python3.13, arm64) from manylinux aarch64 / cp313 wheels,
pruned, and must zip to at most 21 MB. Building only the layer (pip download + prune, about 15 s) runs
in the default `make test`; the whole `make build` installs the SAM CLI in .sam-venv/ when it is missing
(about 20 s to 90 s depending on the network and on the machine) and is marked slow (`make test-slow`).
"""

from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from relance_dev.embedded.cfn import load_template

REPO = Path(__file__).resolve().parents[2]
LAYER_MAKEFILE = REPO / "layers" / "relance" / "Makefile"
ZIP_LIMIT = 21 * 1000 * 1000
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3")
EM_AARCH64 = 183  # ELF e_machine

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _python313() -> str | None:
    """A Python 3.13 interpreter (the Lambda runtime) for SAM's python builder, if the machine has one."""
    if sys.version_info[:2] == (3, 13):
        return sys.executable
    pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("pyenv") else ""
    candidates = sorted(Path(pyenv_root).glob("versions/3.13*/bin/python")) if pyenv_root else []
    found = shutil.which("python3.13")
    return str(candidates[-1]) if candidates else found


# ---------------------------------------------------------------------- helpers
def zipped_size(folder: Path) -> int:
    """Bytes of ``folder`` zipped like ``sam package`` does (deflate, default level)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    return len(buffer.getvalue())


def elf_machine(path: Path) -> int:
    """The ``e_machine`` field of an ELF file (183 = AArch64, 62 = x86-64)."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def _imports(source: Path) -> set[str]:
    """Absolute module names a Python file imports (anywhere in it, lazy imports included)."""
    names: set[str] = set()
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_file(python_dir: Path, module: str) -> Path | None:
    base = python_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def missing_imports(python_dir: Path, entry_points: list[Path], *also: Path, third_party: bool = True) -> list[str]:
    """What the handlers import, transitively through relance, that the layer does not provide.

    ``relance.*`` modules must be files of the layer (``from relance.x import name`` may also name an
    attribute of ``relance.x``); other top-level packages must be in the layer, in one of the ``also``
    folders (the function's own dependencies), the standard library or the runtime (boto3/botocore).
    Imports under ``if TYPE_CHECKING`` are counted too: keep them in the layer or out of the handlers'
    reach. ``third_party=False`` checks only the relance modules.
    """
    problems: list[str] = []
    seen: set[Path] = set()
    todo = [(path, "handler") for path in entry_points]
    while todo:
        source, importer = todo.pop()
        if source in seen:
            continue
        seen.add(source)
        for module in sorted(_imports(source)):
            top = module.split(".", 1)[0]
            if top == "relance":
                found = _module_file(python_dir, module)
                if found is not None:
                    todo.append((found, module))
                elif _module_file(python_dir, module.rsplit(".", 1)[0]) is None:
                    problems.append(f"{source.name} ({importer}) imports {module}: not in the layer")
            elif top in sys.stdlib_module_names or top in ("boto3", "botocore", "__future__") or not third_party:
                continue
            elif not any((d / top).is_dir() or (d / f"{top}.py").is_file() for d in (python_dir, *also)):
                problems.append(f"{source.name} ({importer}) imports {top}: not in the layer")
    return problems


def check_layer(layer: Path) -> None:
    """Every property the deployed layer must have (shared by the fast and the full build tests)."""
    python = layer / "python"
    # the core package, its dependencies, and the /opt folders
    assert (python / "relance" / "__init__.py").is_file()
    assert (python / "relance" / "data" / "rates.yaml").is_file()
    for package in ("jinja2", "pydantic", "pydantic_core", "babel", "fpdf", "segno", "holidays", "yaml",
                    "aws_lambda_powertools"):
        assert (python / package).is_dir(), package
    assert (layer / "policies" / "standard.yaml").is_file()
    assert (layer / "letter_templates" / "fr" / "formal_notice.letter.j2").is_file()
    # native code for Lambda arm64 / CPython 3.13 only
    native = sorted(python.rglob("*.so")) + sorted(python.rglob("*.so.*"))
    assert native
    assert any("cpython-313-aarch64" in so.name for so in (python / "pydantic_core").glob("*.so"))
    extensions = [so for so in native if ".cpython-" in so.name]
    assert all("cpython-313-aarch64-linux-gnu" in so.name for so in extensions), [
        so.name for so in extensions if "cpython-313-aarch64" not in so.name]
    assert {elf_machine(so) for so in native} == {EM_AARCH64}
    # what the runtime provides is not repackaged
    for name in RUNTIME_PROVIDED:
        assert not (python / name).exists(), f"{name} must not be in the layer"
        assert not list(python.glob(f"{name}-*.dist-info")), f"{name} metadata must not be in the layer"
    # no development code: the embedded AWS, the simulator and fault injection live in devtools/relance_dev
    assert not (python / "relance_dev").exists()
    for dev_only in ("local", "simulate", "faults.py"):
        assert not (python / "relance" / dev_only).exists(), f"relance/{dev_only} must not be in the layer"
    # pruned: caches, tests, pip bookkeeping, locales we never render
    assert not (python / "bench").exists()
    # bytecode ships for what cold starts import (read-only /opt cannot cache it), for Python 3.13 only
    assert (python / "relance" / "__pycache__" / "dispatch.cpython-313.pyc").is_file()
    assert {p.name.split(".")[1] for p in python.rglob("*.pyc")} == {"cpython-313"}
    # only the fontTools/Pillow modules of a first PDF ship bytecode (layers/relance/first_pdf_modules.txt)
    first_pdf = (REPO / "layers" / "relance" / "first_pdf_modules.txt").read_text(encoding="utf-8").split()
    compiled = {p.relative_to(python).as_posix() for p in python.rglob("*.pyc") if p.parts[-3] in ("fontTools", "PIL")
                or "fontTools" in p.parts or "PIL" in p.parts}
    assert (python / "fontTools" / "ttLib" / "__pycache__" / "ttFont.cpython-313.pyc").is_file()
    assert len(compiled) <= len(first_pdf), "fontTools/PIL bytecode beyond the first PDF's modules"
    assert not [p for p in python.rglob("tests") if p.is_dir()]
    assert not list(python.glob("*.dist-info/RECORD"))
    assert list(python.glob("*.dist-info/METADATA")), "METADATA (and licences) stay"
    locales = {p.stem for p in (python / "babel" / "locale-data").glob("*.dat")}
    assert {"root", "fr", "fr_FR", "en", "en_001", "en_GB"} <= locales  # fr_FR and en_GB with their parents
    assert not locales - {"root"} - {name for name in locales if name.split("_")[0] in ("fr", "en")}
    assert (python / "babel" / "global.dat").is_file()
    # every module a handler reaches is there
    for handler in sorted((REPO / "functions").glob("*/app.py")):
        own_dependencies = (handler.parent / "requirements.txt").is_file()  # built into the function by SAM
        assert missing_imports(python, [handler], third_party=not own_dependencies) == []
    size = zipped_size(layer)
    assert size <= ZIP_LIMIT, f"the layer zips to {size / 1e6:.1f} MB (limit {ZIP_LIMIT / 1e6:.0f} MB)"


# ---------------------------------------------------------------------- the layer alone (default run)
@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The CoreLayer built by layers/relance/Makefile, as `sam build` runs it (make -f, ARTIFACTS_DIR)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    artifacts = tmp_path_factory.mktemp("CoreLayer")
    scratch = tmp_path_factory.mktemp("scratch")  # SAM runs make from a scratch copy, not from the repo
    done = subprocess.run(
        ["make", "-f", str(LAYER_MAKEFILE), "build-CoreLayer", f"ARTIFACTS_DIR={artifacts}",
         f"PYTHON={sys.executable}"],
        cwd=scratch, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield artifacts


def test_layer_content_platform_and_size(layer: Path) -> None:
    # Given the CoreLayer built as `sam build` builds it; When it is checked
    # Then it has what the functions need, for arm64, small enough
    check_layer(layer)


def test_layer_renders_with_the_pruned_locale_data(layer: Path) -> None:
    """babel from the pruned locale-data still formats what the letters print (fr_FR and en_GB)."""
    # Given the layer's pruned babel, alone on the path
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import babel; assert babel.__file__.startswith(sys.argv[1]), babel.__file__; "
        "from babel.numbers import format_currency; "
        "print(format_currency(1800, 'EUR', locale='fr_FR')); print(format_currency(1800, 'EUR', locale='en_GB'))"
    )
    # -S: no site-packages, so only the layer's pure-Python babel is importable.
    # When it formats an amount in euros for fr_FR and en_GB
    done = subprocess.run([sys.executable, "-S", "-c", code, str(layer / "python")],
                          capture_output=True, text=True, check=True)
    # Then both come out as the letters print them
    assert done.stdout.splitlines() == ["1\u202f800,00\u00a0€", "€1,800.00"]


def test_missing_imports_finds_a_module_the_layer_lacks(tmp_path: Path) -> None:
    # Given a layer whose module imports a dev-only relance module, a missing package and relance_dev
    python = tmp_path / "python"
    (python / "relance").mkdir(parents=True)
    (python / "relance" / "__init__.py").write_text("")
    (python / "relance" / "a.py").write_text("from relance.simulate.runner import run\nimport yaml\n"
                                             "from relance_dev import faults\n")
    # And a handler importing that module
    handler = tmp_path / "app.py"
    handler.write_text("from relance.a import x\nimport json\n")
    # When its imports are followed
    problems = missing_imports(python, [handler])
    # Then each of the three is reported
    assert any("relance.simulate.runner" in p for p in problems)
    assert any("imports yaml" in p for p in problems)
    assert any("imports relance_dev" in p for p in problems)      # the development package never ships


# ---------------------------------------------------------------------- `make build` (slow)
@pytest.mark.slow
@needs_make
def test_make_build_functions_and_layer(tmp_path: Path) -> None:
    # Given a Python 3.13 for SAM's builder
    python313 = _python313()
    if python313 is None:
        pytest.skip("sam build needs a python3.13 on the machine (pyenv or PATH)")
    # When `make build` runs
    build_dir = tmp_path / "build"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    started = time.monotonic()
    done = subprocess.run(
        ["make", "build", f"BUILD_DIR={build_dir}", f"PYTHON={python313}"],
        cwd=REPO, capture_output=True, text=True, timeout=1800, env=env,
    )
    elapsed = time.monotonic() - started
    # Then it succeeds and reports the layer's zipped size
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    print(f"make build: {elapsed:.0f} s")
    assert "CoreLayer zip:" in done.stdout
    # And every function is built with its handler, without boto3, for arm64, its imports all provided
    template = load_template(REPO / "template.yaml")
    functions = [name for name, res in template["Resources"].items() if res["Type"] == "AWS::Serverless::Function"]
    assert functions
    for name in functions:
        code = build_dir / name
        assert (code / "app.py").is_file(), name
        assert not (code / "boto3").exists() and not (code / "botocore").exists(), name
        assert {elf_machine(so) for so in code.rglob("*.so")} <= {EM_AARCH64}, name
        assert missing_imports(build_dir / "CoreLayer" / "python", [code / "app.py"], code) == [], name
    # And the layer is as deployed
    check_layer(build_dir / "CoreLayer")
    # And the built template points at the built layer
    built = load_template(build_dir / "template.yaml")
    assert built["Resources"]["CoreLayer"]["Properties"]["ContentUri"] == "CoreLayer"
