"""No alert lost, none invented: `wht notify` killed with SIGKILL while the receiver is
down, on both stores.

The test ingests a scripted program in three parts. The first part's alerts arrive.
Then the receiver stops listening (connections refused), the second part is ingested,
and once the notifier has failed at least a few attempts it is killed with SIGKILL. The
third part is ingested with no notifier running. The receiver comes back on the same
port, a new `wht notify` starts, is killed again a moment later (mid-work), and a third
one runs to the end. Then:

- every alert the receipts call for arrived (one per finding added, one eligibility);
- nothing else arrived: no alert without a cause in a receipt;
- an alert that arrived twice has the same delivery id and the very same body;
- every one carried a valid signature.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from uuid import uuid4

import pytest

from api.bootstrap import build_tracker
from service.notify import Subscriptions, open_alert_store
from tests.alert_script import SECRET, expected_alerts, said, scripted_events
from tests.helpers import send_all
from tests.receiver import LOCAL, Receiver

pytestmark = pytest.mark.slow

WHT = str(Path(sys.executable).with_name("wht"))
FAST = {
    "WHT_NOTIFY_BACKOFF_BASE": "0.1",
    "WHT_NOTIFY_BACKOFF_CAP": "0.4",
    "WHT_NOTIFY_POLL": "0.1",
    "WHT_NOTIFY_TIMEOUT": "2",
}


def start_notifier(url: str, folder: Path, run: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [WHT, "notify"],
        env={**os.environ, **FAST, "WHT_DATABASE_URL": url},
        cwd=folder,
        stdout=(folder / f"notify-{run}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_every_alert_arrives_after_a_kill_while_the_receiver_is_down(
    store_url: str, tmp_path: Path
) -> None:
    tracker = build_tracker(store_url)
    receiver = Receiver(SECRET).start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subscriptions = Subscriptions(tracker, open_alert_store(tracker), LOCAL)
        made = subscriptions.create(
            url=receiver.url,
            kinds=["finding_added", "discharge_eligible"],
            secret=SECRET,
            provider_id="clinic-north",
        )
        program_id = uuid4()
        events = scripted_events()
        first, second, third = events[:4], events[4:8], events[8:]
        receipts = [r.body for r in send_all(tracker, program_id, first)]
        processes.append(start_notifier(store_url, tmp_path, 1))
        findings = sum(len(r["findings"]) for r in receipts)
        arrived = receiver.wait_for(findings, timeout=30)
        assert len(arrived) == findings >= 1, (tmp_path / "notify-1.log").read_text()

        receiver.stop()
        receipts += [r.body for r in send_all(tracker, program_id, second)]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            failed = [
                a
                for d in subscriptions.deliveries(made.subscription_id, None)
                for a in d["attempts"]
                if a["error"]
            ]
            if len(failed) >= 3:
                break
            time.sleep(0.1)
        assert len(failed) >= 3, "the notifier never tried the receiver while it was down"
        kill(processes[-1])

        receipts += [r.body for r in send_all(tracker, program_id, third)]
        receiver.start()  # the same port again
        processes.append(start_notifier(store_url, tmp_path, 2))
        time.sleep(0.6)
        kill(processes[-1])
        processes.append(start_notifier(store_url, tmp_path, 3))

        expected = expected_alerts(receipts)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ids = {r.alert["delivery_id"] for r in receiver.alerts()}
            if len(ids) >= sum(expected.values()):
                break
            time.sleep(0.1)
        time.sleep(1.0)  # anything more would show now
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
        receiver.stop()
        tracker.close()

    got = receiver.alerts()
    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("notify-*"))
    assert all(r.valid for r in got)
    first_by_id: dict[str, bytes] = {}
    for r in got:
        first_by_id.setdefault(r.alert["delivery_id"], r.body)
        assert r.body == first_by_id[r.alert["delivery_id"]], "one delivery id, two bodies"
    distinct = [json.loads(body) for body in first_by_id.values()]
    assert Counter(said(alert) for alert in distinct) == expected, logs
