"""What running some code imports, seen from a fresh interpreter.

A plugin keeps its heavy imports inside ``connect`` (an HTTP client, a crypto stack), so that
``tidings check`` and ``simulate`` never load them; a test proves it with `new_imports`.
"""

from __future__ import annotations

import json
import subprocess
import sys

def new_imports(code: str, *, setup: str = "import tidings") -> set[str]:
    """The modules a fresh interpreter imports while it runs `code`, after `setup` ran.

    Example::

        imported = new_imports("import tidings_sms.plugin as p\\n[c] = p.tidings_channels()\\nc.describe({'text': 'hi'})")
        assert not {m for m in imported if m.split(".")[0] == "httpx"}

    Raises:
        AssertionError: when `setup` or `code` fails, with what the interpreter printed.
    """
    # what reports is imported before the count starts, so that it never counts itself
    script = (f"import json as _json, sys as _sys\n{setup}\n_before = set(_sys.modules)\n{code}\n"
              "print(_json.dumps(sorted(set(_sys.modules) - _before)))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"the code failed in a fresh interpreter:\n{result.stderr}")
    return set(json.loads(result.stdout.splitlines()[-1]))
