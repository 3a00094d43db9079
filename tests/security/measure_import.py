"""Measure a CSV import on the embedded AWS: rows/s, time inside and outside DynamoDB, calls by kind.

Usage: ``.venv/bin/python tests/security/measure_import.py ROWS`` (not a test; docs/hardening.md quotes it).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from test_api_support import ledger_of

from relance.imports.csv_import import import_csv
from relance_dev.embedded import embedded_aws

HEADER = "client;nom;type;email;facture;date_facture;echeance;montant_ttc\n"


def main(rows: int) -> None:
    body = "".join(f"C{n // 3};Client numéro {n // 3} SARL;entreprise;compta{n // 3}@client.example;F-{n};"
                   f"17/03/2026;16/04/2026;{100 + n % 900},50\n" for n in range(rows))
    data = (HEADER + body).encode()
    with embedded_aws() as aws:
        ledger = ledger_of(aws)
        calls: Counter[str] = Counter()
        spent, started = [0.0], [0.0]

        def before(model: Any, **_: Any) -> None:
            calls[model.name] += 1
            started[0] = time.perf_counter()

        def after(**_: Any) -> None:
            spent[0] += time.perf_counter() - started[0]

        ledger.store.client.meta.events.register("before-call.dynamodb.*", before)
        ledger.store.client.meta.events.register("after-call.dynamodb.*", after)
        start = time.perf_counter()
        report = import_csv(data, ledger, dt.date(2026, 5, 4))
        total = time.perf_counter() - start
        assert report.ok, report.to_text()[:500]
        outside = total - spent[0]
        print(f"rows={rows} bytes={len(data)} seconds={total:.1f} rows/s={rows / total:.0f} "
              f"in DynamoDB (moto)={spent[0]:.1f}s outside={outside:.1f}s ({rows / outside:.0f} rows/s) "
              f"calls={dict(calls)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 600)
