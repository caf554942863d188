"""Property-based run of schemathesis over /cirrus/swagger.json, all checks on.

The server runs in-process (ASGI). Every operation gets a bounded number of
positive and negative generated cases, each checked with schemathesis's
default (all built-in) checks: status codes, content types, response
schemas, positive data accepted, negative data rejected, auth not ignored.
One thing schemathesis cannot know is how many records exist: a page past
the last one is a deliberate 400 (docs/cirrus2.md), so positive cases ask
for page 1.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.cirrus.helpers import auth
from tests.conftest import new_tenant

EXAMPLES = 4
# Generated negative cases can exceed polycrm's URL and header limits
# (docs/limits.md); those refusals are rejections too.
CONFIG = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    "400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "431", "5xx"]}}})


def test_swagger_document_matches_the_server(app, runtime):
    tenant = new_tenant(runtime)
    headers = auth(tenant)
    schema = schemathesis.openapi.from_asgi("/cirrus/swagger.json", app, config=CONFIG)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "_alias" in (operation.definition.raw.get("operationId") or ""):
            continue  # the same handler as the canonical path (routing is tested on its own)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case):
                if mode is GenerationMode.POSITIVE and isinstance(case.query, dict) \
                        and isinstance(case.query.get("page"), int):
                    case.query["page"] = 1
                case.call_and_validate(headers=headers)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
