"""Which faulty variants does schemathesis's own CLI (`st run`) catch with our OpenAPI
document, next to `sms-conformance run`?

For each fault: start `sms-conformance serve --port 0 --fault NAME`, run `st run` against it
(the command is printed), and collect st's findings (operation and check). Against the CLEAN
server `st run` already reports findings (it does not know the documented business rules),
so a variant counts as caught only if st reports a finding the clean server does not get.
The sms-conformance side is the self-test's kill matrix (`sms-conformance self-test`).

    .venv/bin/python benchmarks/compare_with_st.py [--max-examples 10] [--jobs 2] [FAULT ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DOC = ROOT / "conformance" / "openapi" / "close-sms.yaml"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection,use_after_free,"
    "ensure_resource_availability,ignored_auth,unsupported_method"
)


def st_command(url: str, max_examples: int) -> list[str]:
    return [
        str(BIN / "st"), "run", str(DOC), "--url", url, "--auth", "ref-key-org-a:",
        "--checks", CHECKS, "--mode", "all", "--max-examples", str(max_examples),
        "--seed", "1", "--include-path-regex", "^/activity/sms/", "--no-color",
    ]  # fmt: skip


def _signatures(failure: dict) -> list[str]:
    """What a finding is about, without the generated data: each operation and the check."""
    title = failure.get("title") or failure.get("code") or "?"
    return [f"{operation}: {title}" for operation in failure.get("operations") or ["?"]]


def one(fault: str | None, max_examples: int) -> dict[str, object]:
    serve = [str(BIN / "sms-conformance"), "serve", "--port", "0"]
    if fault:
        serve += ["--fault", fault]
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split(": ", 1)[1].strip()  # "Reference server: URL"
        began = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            report = Path(folder) / "st.json"
            command = [*st_command(url, max_examples), "--report", "json",
                       "--report-json-path", str(report)]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            data = json.loads(report.read_text()) if report.exists() else {}
        findings = sorted(
            {sig for failure in data.get("failures", []) for sig in _signatures(failure)}
        )
        return {"fault": fault or "(clean)", "st_exit": result.returncode, "findings": findings,
                "seconds": round(time.monotonic() - began, 1)}  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    from conformance.refserver import FAULTS

    parser = argparse.ArgumentParser()
    parser.add_argument("faults", nargs="*")
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default="reports/st-comparison.json")
    args = parser.parse_args()
    names = args.faults or sorted(FAULTS)
    print("st command:", " ".join(st_command("http://127.0.0.1:PORT/api/v1", args.max_examples)))
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda name: one(name, args.max_examples), [None, *names]))
    clean = set(rows[0]["findings"])
    print(
        f"clean server: st exit {rows[0]['st_exit']}, {len(clean)} finding(s), all false "
        "alarms: " + "; ".join(sorted(clean))
    )
    for row in rows[1:]:
        new = sorted(set(row["findings"]) - clean)
        row["st_caught"] = bool(new)
        print(
            f"{row['fault']:36} st {'caught' if new else 'missed':6} {row['seconds']:5}s "
            + "; ".join(new)[:120]
        )
    caught = sum(bool(row["st_caught"]) for row in rows[1:])
    print(f"st run alone: {caught}/{len(rows) - 1} variants show a finding the clean server lacks")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
