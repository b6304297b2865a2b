"""Schemathesis hooks for ikz-hub (scripts/schemathesis.sh loads them through SCHEMATHESIS_HOOKS).

A list's `cursor` is opaque: only the value from `links.next` (or an export's `Link` header) is valid, and it
belongs to the list and sort order it came from. A generated cursor therefore gets a 400 naming `cursor`, although
any non-empty string matches its schema, which cannot say more about an opaque token. Exactly those refusals are
dropped (Schemathesis counts them in its summary); every other finding stays. Cursors are tested by the Rust
end-to-end tests: pages joined up while records are written, tampered and foreign cursors refused.
"""

import json

import schemathesis


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if response.status_code != 400 or getattr(failure, "code", None) != "ST202":
        return True
    try:
        problem = json.loads(response.content)
    except ValueError:
        return True
    return not (isinstance(problem, dict) and problem.get("parameter") == "cursor")
