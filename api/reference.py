"""The generated reference in `docs/reference/`: the HTTP API from the app's OpenAPI
document, the `wht` command line from the typer app, the policy packs from their JSON.

`scripts/docs.py` writes the files (`--check` names the stale ones) and
`tests/e2e/test_docs_current.py` fails when a committed file is not what the code
generates now. Everything here is deterministic: the same code gives the same bytes.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from api.roles import roles_for
from domain.policy import PolicyCatalog, PolicyPack
from service.security import Role

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "docs/reference"
REGENERATE = "`.venv/bin/python scripts/docs.py`"
SCHEMA_PREFIX = "#/components/schemas/"


def _banner(source: str) -> str:
    return (
        f"<!-- Generated from {source} by {REGENERATE}. Do not edit by hand: "
        "edit the code and regenerate. -->\n"
    )


def cell(text: Any) -> str:
    """`text` fit for one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def paragraphs(text: str) -> str:
    """Docstring or help text as Markdown paragraphs (its line breaks are wrapping)."""
    blocks = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    return "\n\n".join(block for block in blocks if block)


# --- HTTP ---------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the app on a throwaway SQLite tracker."""
    from api.app import create_app
    from api.bootstrap import build_tracker

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        tracker = build_tracker(f"sqlite:///{Path(folder) / 'wht.sqlite'}")
        try:
            app = create_app(tracker, projection=False)
            # A copy through JSON: what a client downloading /openapi.json reads.
            document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
        finally:
            tracker.close()
    return document


def schema_link(name: str) -> str:
    return f"[{name}](#schema-{name.lower()})"


def _constraints(schema: dict[str, Any]) -> list[str]:
    words = []
    for key, sign in (
        ("minimum", "≥"),
        ("ge", "≥"),
        ("exclusiveMinimum", ">"),
        ("gt", ">"),
        ("maximum", "≤"),
        ("le", "≤"),
        ("exclusiveMaximum", "<"),
        ("lt", "<"),
    ):
        if key in schema:
            words.append(f"{sign} {_number(schema[key])}")
    for key, what in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("decimal_places", "at most {} decimal places"),
    ):
        if key in schema:
            words.append(what.format(_number(schema[key])))
    return words


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words: `string (date)`, `array of Finding`, `one of a, b`."""
    if "$ref" in schema:
        return schema_link(schema["$ref"].removeprefix(SCHEMA_PREFIX))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            text = " or ".join(type_of(s) for s in options)
            if len(options) < len(schema[key]):
                text += " or null"
            return text
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        text = f"array of {type_of(schema.get('items', {}))}"
    elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        text = f"object of {type_of(schema['additionalProperties'])}"
    else:
        text = str(kind)
        if "format" in schema:
            text += f" ({schema['format']})"
    constraints = _constraints(schema)
    return f"{text}, {', '.join(constraints)}" if constraints else text


def _default(schema: dict[str, Any]) -> str:
    return f"`{json.dumps(schema['default'])}`" if "default" in schema else ""


def role_names(method: str, path: str) -> str:
    if not path.startswith("/v1"):
        return "anyone (no key needed)"
    allowed = roles_for(method.upper(), path)
    return ", ".join(role.value for role in Role if role in allowed) or "none"


# Sections in the order a reader meets them: writing, reading one program, its due
# dates, across programs, the packs, audits, alerts, keys' use, operations. A tag not
# listed here follows them, in the order it first appears.
TAG_ORDER = [
    "ingest",
    "programs",
    "due dates",
    "regulator",
    "policies",
    "audit",
    "alerts",
    "security",
    "ops",
]


def _tag(operation: dict[str, Any]) -> str:
    return str((operation.get("tags") or ["other"])[0])


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation, grouped by its first tag (`TAG_ORDER`), then in the document's
    order (the order routes are matched)."""
    operations = [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    tags = list(TAG_ORDER)
    for _, _, operation in operations:
        if _tag(operation) not in tags:
            tags.append(_tag(operation))
    return sorted(operations, key=lambda item: tags.index(_tag(item[2])))


def _event_variants(union: dict[str, Any]) -> list[tuple[str, str]]:
    """(event type, schema of the whole item) for each variant of an event union, in the
    union's order."""
    mapping: dict[str, str] = union["discriminator"]["mapping"]
    by_schema = {ref.removeprefix(SCHEMA_PREFIX): t for t, ref in mapping.items()}
    names = [ref["$ref"].removeprefix(SCHEMA_PREFIX) for ref in union["oneOf"]]
    return [(by_schema[name], name) for name in names]


def _request_body(document: dict[str, Any], body: dict[str, Any]) -> str:
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").removeprefix(SCHEMA_PREFIX)
    out = [f"Request body (`application/json`, required): {type_of(schema)}.\n"]
    components = document["components"]["schemas"]
    union: dict[str, Any] | None = None
    if name == "EventRequest":
        union = components[name]
        out.append(
            "\nOne event, chosen by `type`; `data` is the body of that event type "
            "(each event and its fields: [domain.md](../domain.md#events)).\n"
        )
    elif name == "BatchRequest":
        union = components[name]["properties"]["events"]["items"]
        out.append(
            "\n`events`: up to 1,000 events across programs, each with its `program_id`, "
            "stored all or nothing.\n"
        )
    if union is not None:
        rows = []
        for event_type, item in _event_variants(union):
            data = components[item]["properties"]["data"]
            required = "required" if "data" in components[item].get("required", []) else "optional"
            rows.append((f"`{event_type}`", schema_link(item), f"{type_of(data)} ({required})"))
        out.append("\n" + table(["type", "item", "data"], rows))
    return "".join(out)


def _parameters(parameters: list[dict[str, Any]]) -> str:
    rows = [
        (
            f"`{p['name']}`",
            p["in"],
            type_of(p.get("schema", {})),
            "yes" if p.get("required") else "no",
            _default(p.get("schema", {})),
            p.get("description", p.get("schema", {}).get("description", "")),
        )
        for p in parameters
    ]
    return table(["name", "in", "type", "required", "default", "description"], rows)


def _responses(responses: dict[str, Any]) -> str:
    rows = []
    for status in sorted(responses):
        response = responses[status]
        bodies = []
        for media, content in sorted(response.get("content", {}).items()):
            schema = content.get("schema")
            bodies.append(f"{media}: {type_of(schema)}" if schema else media)
        headers = ", ".join(f"`{h}`" for h in sorted(response.get("headers", {})))
        rows.append((status, response.get("description", ""), "; ".join(bodies), headers))
    return table(["status", "meaning", "body", "headers"], rows)


def _schema_section(name: str, schema: dict[str, Any]) -> str:
    out = [f"### Schema: {name}\n"]
    if schema.get("description"):
        out.append("\n" + paragraphs(schema["description"]) + "\n")
    properties: dict[str, Any] = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        rows = [
            (
                f"`{field}`",
                type_of(spec),
                "yes" if field in required else "no",
                _default(spec),
                spec.get("description", ""),
            )
            for field, spec in properties.items()
        ]
        out.append("\n" + table(["field", "type", "required", "default", "description"], rows))
        extra = schema.get("additionalProperties")
        if extra is False:
            out.append("\nNo other field is accepted.\n")
        elif extra is True:
            out.append("\nOther fields may be added beside these.\n")
    elif "oneOf" in schema or "anyOf" in schema:
        out.append(f"\nOne of: {type_of(schema)}.\n")
    else:
        out.append(f"\n{type_of(schema)}.\n")
    return "".join(out)


HTTP_INTRO = """\
# HTTP API reference

Every operation the service answers under its OpenAPI document (`GET /openapi.json`;
browsable at `/docs` and `/redoc`), with its `operationId` (the method name a generated
client gives it), parameters, request body, answers and the API-key roles allowed to call
it. The meaning of the events, figures and findings is in [domain.md](../domain.md);
keys and roles in [security.md](../security.md); due dates in
[due-dates.md](../due-dates.md); webhooks in [alerts.md](../alerts.md).

Conventions:

- JSON everywhere; dates `YYYY-MM-DD`; instants RFC 3339 with an offset; hours are JSON
  numbers (at most 2 decimal places).
- Every error is `application/problem+json` ([Problem](#schema-problem)): `type`, `title`,
  `status`, `detail`, and `errors` (each with `loc` and `msg`) for a request that is not
  valid. Nothing is stored by a request that answers an error.
- **Roles**: with at least one API key in the store every `/v1` call needs
  `Authorization: Bearer KEY` (401 without) of a role the operation allows (403
  otherwise). With no key at all the service is open and answers on loopback only.
  A provider key reaches only its own programs (another provider's answers 404).
  A regulator key never sees a worker's name, worker id, employer or claim number.
- Every answer carries `X-Request-Id`.

Outside the OpenAPI document: `GET /` (redirects to `/ui`), the web pages under `/ui`,
`/docs`, `/redoc` and `/openapi.json` itself.
"""


def http_markdown(document: dict[str, Any]) -> str:
    operations = _operations(document)
    out = [_banner("the app's OpenAPI document (api/app.py)"), "\n", HTTP_INTRO]
    out.append("\n## Operations\n\n")
    out.append(
        table(
            ["method", "path", "operationId", "roles"],
            (
                (
                    method.upper(),
                    f"`{path}`",
                    f"[`{op['operationId']}`](#{op['operationId']})",
                    role_names(method, path),
                )
                for method, path, op in operations
            ),
        )
    )
    current_tag = None
    for method, path, operation in operations:
        tag = _tag(operation)
        if tag != current_tag:
            out.append(f"\n## {tag[:1].upper()}{tag[1:]}\n")
            current_tag = tag
        out.append(f"\n### {operation['operationId']}\n\n`{method.upper()} {path}`\n")
        if operation.get("description"):
            out.append("\n" + paragraphs(operation["description"]) + "\n")
        elif operation.get("summary"):
            out.append("\n" + operation["summary"] + ".\n")
        out.append(f"\nRoles: {role_names(method, path)}.\n")
        if operation.get("parameters"):
            out.append("\nParameters:\n\n" + _parameters(operation["parameters"]))
        if "requestBody" in operation:
            out.append("\n" + _request_body(document, operation["requestBody"]))
        out.append("\nAnswers:\n\n" + _responses(operation.get("responses", {})))
    out.append(
        "\n## Schemas\n\nThe bodies named above, in alphabetical order. A field marked "
        "required is always present in an answer and must be sent in a request.\n"
    )
    components: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for name in sorted(components):
        out.append("\n" + _schema_section(name, components[name]))
    return "".join(out)


# --- CLI ----------------------------------------------------------------------------


def _walk(command: Any, name: str, parent: Any = None) -> Iterable[tuple[str, Any, Any]]:
    ctx = command.context_class(command, info_name=name, parent=parent)
    yield ctx.command_path, command, ctx
    subcommands: dict[str, Any] = getattr(command, "commands", {})
    for sub in command.list_commands(ctx) if subcommands else []:
        if not getattr(subcommands[sub], "hidden", False):
            yield from _walk(subcommands[sub], sub, ctx)


PARAM_TYPES = {
    "str": "text",
    "string": "text",
    "int": "integer",
    "integer": "integer",
    "float": "number",
    "bool": "flag",
    "boolean": "flag",
}


def _usage(path: str, command: Any) -> str:
    """The usage line as `--help` prints it (arguments upper-case, optional in [])."""
    pieces = [path, "[OPTIONS]"]
    for param in command.params:
        if param.param_type_name == "argument" and not getattr(param, "hidden", False):
            name = param.name.upper()
            pieces.append(name if param.required else f"[{name}]")
    if getattr(command, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _first_sentence(text: str) -> str:
    sentence = paragraphs(text).split("\n\n")[0].split(". ")[0].rstrip(".")
    return f"{sentence}." if sentence else ""


def _option_rows(command: Any, ctx: Any) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    arguments: list[tuple[str, ...]] = []
    options: list[tuple[str, ...]] = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        choices = getattr(param.type, "choices", None)
        name = param.type.name.lower()
        kind = (
            "one of " + ", ".join(f"`{c}`" for c in choices)
            if choices
            else PARAM_TYPES.get(name, name)
        )
        if param.param_type_name == "argument":
            arguments.append(
                (
                    f"`{param.name.upper()}`",
                    kind,
                    "yes" if param.required else "no",
                    getattr(param, "help", "") or "",
                )
            )
            continue
        names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        default = param.default
        if hasattr(default, "value"):  # an enum member: its value, as typed
            default = default.value
        if getattr(param, "is_flag", False) and param.secondary_opts:
            kind = "flag"
            default_text = f"`{param.opts[0] if default else param.secondary_opts[0]}`"
        elif getattr(param, "is_flag", False):
            kind = "flag"
            default_text = "off" if not default else "on"
        elif default is None or param.required:
            default_text = ""
        else:
            default_text = f"`{default}`"
        options.append(
            (
                names,
                kind,
                "yes" if param.required else "no",
                default_text,
                getattr(param, "help", "") or "",
            )
        )
    return arguments, options


CLI_INTRO = """\
# Command line reference: `wht`

The package installs one command, `wht` (`.venv/bin/wht` in a development checkout,
or `python3 scripts/dev.py wht ...`). Every command answers `--help`; errors go to
standard error with a non-zero exit status. The store is chosen by the environment
variable `WHT_DATABASE_URL` (see [Environment](#environment)); the same settings are read
by every command.
"""


def cli_markdown() -> str:
    from typer.main import get_command

    from api.cli import cli

    root = get_command(cli)
    out = [_banner("the typer app (api/cli.py)"), "\n", CLI_INTRO]
    commands = list(_walk(root, "wht"))
    out.append("\n## Commands\n\n")
    out.append(
        table(
            ["command", "what it does"],
            (
                (f"[`{path}`](#{path.replace(' ', '-')})", _first_sentence(command.help or ""))
                for path, command, _ in commands
            ),
        )
    )
    for path, command, ctx in commands:
        usage = _usage(path, command)
        out.append(f"\n## {path}\n\n```\n{usage}\n```\n")
        if command.help:
            out.append("\n" + paragraphs(command.help) + "\n")
        arguments, options = _option_rows(command, ctx)
        if arguments:
            out.append(
                "\nArguments:\n\n" + table(["argument", "type", "required", "help"], arguments)
            )
        if options:
            out.append(
                "\nOptions:\n\n" + table(["option", "type", "required", "default", "help"], options)
            )
        subcommands = getattr(command, "commands", {})
        if subcommands:
            names = ", ".join(
                f"[`{path} {n}`](#{path.replace(' ', '-')}-{n})" for n in command.list_commands(ctx)
            )
            out.append(f"\nSubcommands: {names}.\n")
    out.append("\n" + environment_markdown())
    return "".join(out)


def environment_markdown() -> str:
    from api.settings import Settings

    rows = []
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        rows.append(
            (
                f"`WHT_{name.upper()}`",
                "unset" if default is None else f"`{default}`" if default != "" else "empty",
                field.description or "",
            )
        )
    return (
        "## Environment\n\nEvery `wht` process reads these once, when it starts (an invalid "
        "value stops it with exit status 2, naming the variable, never printing its "
        "value).\n\n" + table(["variable", "default", "meaning"], rows)
    )


# --- policy packs -------------------------------------------------------------------


def _period(period: Any) -> tuple[str, str]:
    return str(period.start), str(period.end) if period.end else "open (still in force)"


def _pack_section(pack: PolicyPack, default: bool) -> str:
    out = [f"\n## {pack.id}\n\n"]
    out.append(
        table(
            ["", ""],
            [
                ("id", f"`{pack.id}`" + (" (the default)" if default else "")),
                ("name", pack.name),
                ("payer", pack.payer),
                ("source", pack.source),
                ("version", pack.version),
            ],
        )
    )
    out.append("\nEffective periods (inclusive):\n\n")
    out.append(table(["from", "to"], (_period(p) for p in pack.effective_periods)))
    words: Callable[[list[str]], str] = lambda items: (  # noqa: E731
        ", ".join(f"`{i}`" for i in items) or "none"
    )
    out.append("\nLists:\n\n")
    out.append(
        table(
            ["parameter", "values", "read by"],
            [
                ("`covered_regions`", words(pack.covered_regions), "SEL-1"),
                ("`excluded_regions`", words(pack.excluded_regions), "SEL-2"),
                ("`required_evaluation_domains`", words(pack.required_evaluation_domains), "TS-b"),
                (
                    "`qualified_evaluator_disciplines`",
                    words(pack.qualified_evaluator_disciplines),
                    "TS-b",
                ),
            ],
        )
    )
    for title, group, clause in (
        ("Limits", pack.limits, "COV-2, DIS-5a"),
        ("Typical frequency", pack.typical, "TS-k"),
        ("Deadlines", pack.deadlines, "TS-e, TS-i, TS-j, REP"),
        ("Billing", pack.billing, "COD-1, COD-2"),
    ):
        prefix = {
            "Limits": "limits",
            "Typical frequency": "typical",
            "Deadlines": "deadlines",
            "Billing": "billing",
        }[title]
        rows = []
        for name in type(group).model_fields:
            value = getattr(group, name)
            shown = words(value) if isinstance(value, list) else f"`{value}`"
            rows.append((f"`{prefix}.{name}`", shown))
        out.append(f"\n{title} ({clause}):\n\n" + table(["parameter", "value"], rows))
    if pack.assumptions:
        out.append("\nWhat the pack assumes where the policy's text is silent:\n\n")
        out.append("".join(f"- {' '.join(a.split())}\n" for a in pack.assumptions))
    out.append("\nClauses (cited by findings; the text is the policy's own words):\n\n")
    out.append(
        table(
            ["id", "title", "text"],
            ((f"`{cid}`", clause.title, clause.text) for cid, clause in pack.clauses.items()),
        )
    )
    return "".join(out)


PACKS_INTRO = """\
# Policy packs reference

Every policy pack the tracker ships (`domain/packs/*.json`), in full: its effective
periods, every parameter the rules read, what it assumes, and each clause id with the
policy's words. A program is judged by the pack its referral names, or by the default
pack; a referral dated outside the pack's effective periods is still judged by it, with
the finding `policy_not_in_force` (`HIST-1`). What each parameter means and how to add a
pack: [policy-packs.md](../policy-packs.md). Which finding cites which clause:
[domain.md](../domain.md#findings). The same data is served by `GET /v1/policies` and
`GET /v1/policies/{policy_id}`.
"""


def packs_markdown(catalog: PolicyCatalog | None = None) -> str:
    catalog = catalog or PolicyCatalog.load()
    ids = sorted(catalog.packs, key=lambda i: (i != catalog.default_id, i))
    out = [_banner("domain/packs/*.json"), "\n", PACKS_INTRO, "\n"]
    out.append(
        table(
            ["id", "name", "in force"],
            (
                (
                    f"[`{i}`](#{i})",
                    catalog.packs[i].name,
                    "; ".join(
                        f"{a} to {b}" for a, b in map(_period, catalog.packs[i].effective_periods)
                    ),
                )
                for i in ids
            ),
        )
    )
    for pack_id in ids:
        out.append(_pack_section(catalog.packs[pack_id], pack_id == catalog.default_id))
    return "".join(out)


# --- files --------------------------------------------------------------------------


def generated() -> dict[str, str]:
    """Each generated file's path (relative to the repository) and its content."""
    return {
        f"{REFERENCE}/http.md": http_markdown(openapi_document()),
        f"{REFERENCE}/cli.md": cli_markdown(),
        f"{REFERENCE}/policy-packs.md": packs_markdown(),
    }


def stale(root: Path = ROOT, files: dict[str, str] | None = None) -> list[str]:
    """The generated files that are missing under `root` or differ from the code's."""
    files = generated() if files is None else files
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def write(root: Path = ROOT, files: dict[str, str] | None = None) -> list[str]:
    """Write every generated file that changed; return their paths."""
    files = generated() if files is None else files
    changed = stale(root, files)
    for path in changed:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(files[path], encoding="utf-8")
    return changed
