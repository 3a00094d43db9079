"""The core layer as Lambda gets it: its zipped size, and each handler's cold import time.

The layer is built by ``layers/relance/Makefile`` itself (what ``sam build`` runs): arm64 wheels for the
zipped size, this machine's wheels for timing (arm64 wheels do not load on x86_64). Cold imports run in a
fresh interpreter (``python -S``: stdlib only) with, on ``sys.path``, the function folder, that layer and
boto3/botocore (which the Lambda runtime provides), and Lambda's environment (``LAMBDA_TASK_ROOT`` set: the
Tracer patches botocore as it does in Lambda). As in Lambda, where the read-only ``/opt`` cannot cache
bytecode (``PYTHONDONTWRITEBYTECODE``), the import uses only the ``.pyc`` files the layer ships. The floor
(boto3 and the Powertools Logger, Tracer and Metrics alone) is timed in the same rounds, for reference.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LAYER_DIR = REPO / "layers" / "relance"
FUNCTIONS = REPO / "functions"
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
SUPPLEMENT_DEPS = {"aws_xray_sdk": ("wrapt",)}
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")

_IMPORT = """
import sys, time
sys.path[:0] = {paths!r}
started, cpu = time.perf_counter(), time.process_time()
import {module}
print(round((time.perf_counter() - started) * 1000, 2), round((time.process_time() - cpu) * 1000, 2))
"""

# The floor: what any handler of ours pays before its own code, boto3 and the Powertools trio as
# observability.powertools() builds them (Tracer patching botocore only). Timed in the same rounds as the
# handlers, so that a busy machine's figures can be read against it.
_FLOOR = """
import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
logger, tracer, metrics = Logger(), Tracer(patch_modules=["botocore"]), Metrics()
"""
FLOOR = "(floor: boto3 + Powertools)"

_FIRST_PDF = """
import sys, time
sys.path[:0] = {paths!r}
import app
sys.path.append({repo!r})
from bench.render import LETTER_STEP, contexts
from relance.rendering import render_pdf
context = contexts()[0]
started = time.perf_counter()
render_pdf(LETTER_STEP, context)
print(round((time.perf_counter() - started) * 1000, 2))
"""


def build_layer(root: Path, platforms: tuple[str, ...] = PLATFORMS) -> Path:
    """The layer exactly as ``sam build`` makes it: ``layers/relance/Makefile`` run into ``root``.

    ``platforms`` picks the wheels (arm64 for the size Lambda gets; this machine's for timing imports).
    """
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["make", "--no-print-directory", "-f", str(LAYER_DIR / "Makefile"), "build-CoreLayer",
                    f"ARTIFACTS_DIR={root}", f"PYTHON={sys.executable}", f"PLATFORMS={' '.join(platforms)}"],
                   check=True, capture_output=True, text=True, timeout=600)
    return root


def zip_size(root: Path, out: Path) -> tuple[int, int, int]:
    """(zipped bytes, unzipped bytes, files) of a deflate zip of ``root``, as ``sam package`` makes it."""
    files = raw = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
                files += 1
                raw += path.stat().st_size
    return out.stat().st_size, raw, files


def _runtime_dir(root: Path) -> Path:
    """boto3 and its dependencies (provided by the Lambda runtime), linked from this interpreter's site."""
    import boto3

    site = Path(boto3.__file__).resolve().parents[1]
    runtime = root / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PROVIDED:
        if (site / name).exists():
            (runtime / name).symlink_to(site / name)
    return runtime


def _function_env(name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "POWERTOOLS_", "LAMBDA_"))}
    # LAMBDA_TASK_ROOT is how Powertools knows it runs in Lambda: without it the Tracer stays off (no patching).
    env.update({"LAMBDA_TASK_ROOT": str(FUNCTIONS / name), "AWS_LAMBDA_FUNCTION_NAME": f"relance-{name}",
                "AWS_REGION": "eu-west-3",
                "AWS_DEFAULT_REGION": "eu-west-3", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "POWERTOOLS_SERVICE_NAME": "relance",
                "POWERTOOLS_METRICS_NAMESPACE": "Relance", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def _import_ms(function: str, paths: list[str], env: dict[str, str],
               floor: Path | None = None) -> tuple[tuple[float, float] | None, str]:
    """(wall ms, CPU ms) of ``import app`` of ``function`` in a fresh interpreter, or (None, error).

    ``floor``: a folder holding the floor module instead of a function's ``app.py``.
    """
    folder, module = (floor, "floor") if floor is not None else (FUNCTIONS / function, "app")
    code = _IMPORT.format(paths=[str(folder), *paths], module=module)
    proc = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return None, last[:300]
    wall, cpu = proc.stdout.strip().splitlines()[-1].split()
    return (float(wall), float(cpu)), ""


def _supplement(root: Path, error: str) -> Path | None:
    """A folder linking the module an import missed (and its own dependencies) from this venv, if present.

    Lets the benchmark still time a handler whose layer lacks a package; the error is reported.
    """
    match = re.search(r"No module named '([A-Za-z0-9_]+)", error)
    if not match:
        return None
    extra = root / "supplement"
    extra.mkdir(exist_ok=True)
    site = next((Path(p) for p in sys.path if p.endswith("site-packages")), None)
    if site is None:
        return None
    for name in (match.group(1), *SUPPLEMENT_DEPS.get(match.group(1), ())):
        source = site / name
        if source.exists() and not (extra / name).exists():
            (extra / name).symlink_to(source)
    return extra if (extra / match.group(1)).exists() else None


def first_pdf(paths: list[str], repeats: int, function: str = "dispatch") -> dict[str, Any]:
    """Median time (ms) of the first letter a fresh container renders, after its handler's import.

    fpdf2 imports fontTools and Pillow on its first PDF: their bytecode must ship in the layer, or this
    first letter compiles them.
    """
    times: list[float] = []
    error = ""
    env = _function_env(function)
    for variable, folder in (("RELANCE_TEMPLATES_DIR", "letter_templates"), ("RELANCE_POLICIES_DIR", "policies")):
        if (Path(paths[0]).parent / folder).is_dir():      # the layer's copy, as /opt holds it in Lambda
            env[variable] = str(Path(paths[0]).parent / folder)
    for _ in range(repeats):
        code = _FIRST_PDF.format(paths=[str(FUNCTIONS / function), *paths], repo=str(REPO))
        proc = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True,
                              text=True, timeout=120, cwd=tempfile.gettempdir())
        if proc.returncode != 0:
            error = ((proc.stderr.strip().splitlines() or ["failed"])[-1])[:300]
            break
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return {"ms": statistics.median(times) if times else None, "min_ms": min(times) if times else None,
            "repeats": len(times), "error": error}


def cold_imports(paths: list[str], repeats: int, scratch: Path) -> dict[str, Any]:
    """Each handler's import time (ms) in a fresh interpreter, as Lambda's init runs it; and the errors.

    ``repeats`` rounds; each round imports every handler once, and the floor (boto3 + Powertools) once,
    so that a burst of load on a shared machine hits them alike. ``ms`` is the median wall time per
    handler; ``min_ms`` the fastest round, ``cpu_ms`` the median CPU time of the import. A handler that
    fails to import is retried with the missing package taken from this venv (so the other costs are
    still measured); the failure stays in ``errors``.
    """
    functions = sorted(p.name for p in FUNCTIONS.iterdir() if (p / "app.py").is_file())
    floor = scratch / "floor"
    floor.mkdir(exist_ok=True)
    (floor / "floor.py").write_text(_FLOOR, encoding="utf-8")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in (*functions, FLOOR)}
    errors: dict[str, str] = {}
    search = list(paths)
    for _ in range(repeats):
        for name in samples:
            if name in errors and not samples[name]:
                continue                       # failed even with the venv's packages: not timed
            env = _function_env("dispatch" if name == FLOOR else name)
            timed, error = _import_ms(name, search, env, floor if name == FLOOR else None)
            for _fix in range(3):
                if timed is not None:
                    break
                errors.setdefault(name, error)
                extra = _supplement(scratch, error)
                if extra is None:
                    break
                if str(extra) not in search:
                    search.append(str(extra))
                timed, error = _import_ms(name, search, env, floor if name == FLOOR else None)
            if timed is None:
                errors[name] = f"{errors.get(name, '')} | {error}"
                continue
            samples[name].append(timed)
    timed_ones = {name: runs for name, runs in samples.items() if runs}
    out: dict[str, Any] = {
        "ms": {name: statistics.median(w for w, _ in runs) for name, runs in timed_ones.items() if name != FLOOR},
        "min_ms": {name: min(w for w, _ in runs) for name, runs in timed_ones.items() if name != FLOOR},
        "cpu_ms": {name: statistics.median(c for _, c in runs) for name, runs in timed_ones.items() if name != FLOOR},
        "repeats": repeats,
        "errors": errors,
    }
    if FLOOR in timed_ones:
        runs = timed_ones[FLOOR]
        out["floor"] = {"ms": statistics.median(w for w, _ in runs), "min_ms": min(w for w, _ in runs),
                        "cpu_ms": statistics.median(c for _, c in runs),
                        "what": "boto3 + Powertools Logger, Tracer(patch_modules=['botocore']), Metrics"}
    return out


def bench_layer(repeats: int = 3, build: bool = True) -> dict[str, Any]:
    """Layer zip size (MB) and cold import times; ``build=False`` (smoke) skips pip and uses this venv."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as tmp:
        root = Path(tmp)
        if build:
            try:
                layer = build_layer(root / "layer")
                zipped, raw, files = zip_size(layer, root / "layer.zip")
                result.update(zip_mb=zipped / 1e6, unzipped_mb=raw / 1e6, files=files)
            except (subprocess.SubprocessError, OSError) as exc:
                result["zip_error"] = f"layer build failed: {exc}"[:300]
            try:
                machine = "aarch64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
                native = build_layer(root / "native", (f"manylinux2014_{machine}", f"manylinux_2_28_{machine}"))
                paths = [str(native / "python"), str(_runtime_dir(root))]
                result["import_setup"] = "the layer as built (with its shipped .pyc), native wheels, runtime boto3"
            except (subprocess.SubprocessError, OSError) as exc:
                result["import_error"] = f"native layer build failed: {exc}"[:300]
                build = False
        if not build:
            import relance

            paths = [str(Path(relance.__file__).resolve().parents[1]),
                     *[p for p in sys.path if p.endswith("site-packages")]]
            result["import_setup"] = "fallback: repository layer + this venv's site-packages"
        result["cold"] = cold_imports(paths, repeats, root)
        result["first_pdf"] = first_pdf(paths, repeats)
    return result
