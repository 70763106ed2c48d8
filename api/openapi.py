"""The OpenAPI document: problem responses, typed request bodies, and the touch-ups that
FastAPI cannot express on a route (docs/architecture.md, "The OpenAPI document").

A route declares what it answers in one line each:

    @router.get("/x", response_model=None, operation_id="get_x",
                responses=ok(X, example={...}) | problem_responses(404, 422, 503))

`ok` documents the success answer without serializing through the model (so nothing a
route answers changes by being declared); `problem_responses` documents each error as
`application/problem+json` with the `Problem` schema. `install_openapi` adds the typed
event bodies (a union discriminated on `type`, each with its `data` model from
`domain/events.py`), which stay documentation: requests are still validated by
`api.schemas` and `domain.intake`, so that every refusal keeps its exact wording.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from domain.events import EVENT_MODELS, IsoDate

PROBLEM = "application/problem+json"
REF = "#/components/schemas/{model}"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str


class BatchItemProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    index: int
    status: int
    title: str
    detail: str
    errors: list[ProblemError] | None = None


class Problem(BaseModel):
    """An error answer (RFC 9457). `errors` for a request that is not valid, `items` for
    a batch refused, `reason` and the positions for a 503 of /readyz."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://wht.example/problems/404"])
    title: str = Field(examples=["Not found"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str
    errors: list[ProblemError] | None = None
    items: list[BatchItemProblem] | None = None


WHY = {
    400: "The body is not JSON",
    401: "No valid API key (`Authorization: Bearer KEY`)",
    403: "This key's role may not call this",
    404: "No such program (or another provider's), policy or resource",
    409: "A conflict: the event_id with another body, a stale expected_version, a second "
    "referral, admission or discharge; nothing was stored",
    413: "The body is over 1 MiB",
    422: "Not valid: each error's place is in `errors`; nothing was stored",
    503: "The store (or the read model) cannot answer just now; retry after Retry-After",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    503: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries declaring each status as application/problem+json."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": Problem, "description": WHY.get(status, "Error")}
        if status in HEADERS:
            entry["headers"] = HEADERS[status]
        declared[status] = entry
    return declared


def ok(
    model: Any, status: int = 200, description: str = "OK", example: Any = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry declaring the success answer (use with `response_model=None`)."""
    entry: dict[str, Any] = {"model": model, "description": description}
    if example is not None:
        entry["content"] = {"application/json": {"example": example}}
    return {status: entry}


# Reads of one program share these answers (409: its stored trail is damaged); writes
# add 400 and 413.
READ_PROBLEMS = problem_responses(404, 409, 422, 503)
WRITE_PROBLEMS = problem_responses(400, 404, 409, 413, 422, 503)


# --- typed event bodies (documentation only) ------------------------------------------


def _variant(event_type: str, data: type[BaseModel], batch: bool) -> type[BaseModel]:
    required = any(field.is_required() for field in data.model_fields.values())
    fields: dict[str, Any] = {
        "event_id": (UUID, ...),
        "type": (Literal[event_type], ...),
        "occurred_on": (IsoDate, ...),
        "expected_version": (int | None, Field(default=None, ge=0)),
        "data": (data, ...) if required else (data, Field(default_factory=dict)),
    }
    if batch:
        fields = {
            "program_id": (UUID, ...),
            **fields,
        }
    return create_model(
        f"{event_type}{'BatchItem' if batch else 'Event'}",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )


def _union(batch: bool) -> Any:
    variants = tuple(_variant(t, m, batch) for t, m in EVENT_MODELS.items())
    return Annotated[Union[variants], Field(discriminator="type")]  # noqa: UP007


EventRequest = _union(batch=False)
BatchItemRequest = _union(batch=True)


class BatchRequest(BaseModel):
    """Up to 1,000 events across programs, stored all or nothing."""

    model_config = ConfigDict(extra="forbid")
    events: list[BatchItemRequest] = Field(min_length=1, max_length=1000)  # type: ignore[valid-type]


DOCUMENTED: dict[str, Any] = {"EventRequest": EventRequest, "BatchRequest": BatchRequest}


def request_body(name: str, example: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra=` for a route whose body is documented by `DOCUMENTED[name]`."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=name)}, "example": example}
            },
        }
    }


class _Numbers(GenerateJsonSchema):
    """Decimals (hours) are JSON numbers on the wire: the intake refuses strings."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        out: JsonSchemaValue = {"type": "number"}
        for key, name in (
            ("gt", "exclusiveMinimum"),
            ("ge", "minimum"),
            ("lt", "exclusiveMaximum"),
            ("le", "maximum"),
        ):
            if schema.get(key) is not None:
                out[name] = float(schema[key])  # type: ignore[literal-required]
        return out


def operation_id(route: APIRoute) -> str:
    """A route's operationId: its `operation_id=`, else its function's name (generated
    clients name their methods by it)."""
    return route.name


def install_openapi(app: FastAPI) -> None:
    """Add the documented bodies and serve every error as application/problem+json."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if schema.get("x-wht-documented"):
            return schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, annotation in DOCUMENTED.items():
            generated = TypeAdapter(annotation).json_schema(
                ref_template=REF, schema_generator=_Numbers
            )
            components.update(generated.pop("$defs", {}))
            components[name] = generated
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and "application/json" in content:
                        content[PROBLEM] = content.pop("application/json")
        # FastAPI's own 422 (for a route that declared none) answers a Problem here too.
        text = json.dumps(schema).replace(
            REF.format(model="HTTPValidationError"), REF.format(model="Problem")
        )
        schema.clear()
        schema.update(json.loads(text))
        components = schema["components"]["schemas"]
        # The runtime request models (EventIn, BatchIn, FastAPI's validation errors) are
        # replaced above: keep only the components something refers to.
        while unused := [
            name for name in components if json.dumps(schema).count(REF.format(model=name)) == 0
        ]:
            for name in unused:
                components.pop(name)
        schema["x-wht-documented"] = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
