"""Large stack exports written incrementally, and the script that measures the state reader's peak
memory on one: used by the state reader's tests and its benchmark."""

from __future__ import annotations

import json
from pathlib import Path

from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY

MEASURE = """
import re, sys
from dpaguard.source.state import load_state
d = load_state(sys.argv[1])
with open("/proc/self/status") as status:
    peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(len(d.resources), peak_kb * 1024)
"""


def big_export(path: Path, resources: int, *, block_last: bool) -> None:
    """A stack export of many buckets with plaintext secrets, written incrementally."""
    with path.open("w") as handle:
        head = '{"version": 3, '
        block = '"dpaguard": {"stack": "prod", "project": "big", "source": "program", "config": {"dpaguard:environment": "prod", "scaleway:region": "fr-par"}}'
        handle.write(head + ("" if block_last else block + ", ") + '"deployment": {"resources": [')
        handle.write('{"urn": "urn:pulumi:prod::big::pulumi:pulumi:Stack::big-prod", "custom": false, "type": "pulumi:pulumi:Stack"}')
        for i in range(resources):
            inputs = {
                "name": f"bucket-{i}",
                "region": "fr-par",
                "tags": {"env": "prod", "data-category": "call-logs"},
                "password": {SECRET_SIG_KEY: SECRET_SIG, "plaintext": '"CANARYBIG"'},
                "lifecycleRules": [{"enabled": True, "expiration": {"days": 365}}],
            }
            item = {
                "urn": f"urn:pulumi:prod::big::scaleway:object/bucket:Bucket::bucket-{i}",
                "custom": True,
                "id": f"fr-par/bucket-{i}",
                "type": "scaleway:object/bucket:Bucket",
                "inputs": inputs,
                "outputs": dict(inputs, endpoint=f"https://bucket-{i}.s3.fr-par.scw.cloud"),
                "parent": "urn:pulumi:prod::big::pulumi:pulumi:Stack::big-prod",
                "dependencies": [],
            }
            handle.write(", " + json.dumps(item))
        handle.write("]}" + (", " + block if block_last else "") + "}")
