"""Checks GraphQL exchanges against GitHub's published schema with graphql-core: a document must validate,
and an answer must be exactly what executing that document over the answer's own data yields (so every
value has its declared type, every non-null field is there, every enum value exists)."""

from __future__ import annotations

import pytest

from connector.sandbox import github_graphql

needs_schema = pytest.mark.skipif(not github_graphql.available(),
                                  reason="GitHub's GraphQL schema (../shared/refdata) is not on this machine")


def schema():
    return github_graphql.load_schema()


def document_problems(query: str) -> list[str]:
    from graphql import parse, validate

    return [e.message for e in validate(schema(), parse(query))]


def answer_problems(query: str, variables: dict, answer: dict) -> list[str]:
    """Where `answer` (the JSON GitHub or the sandbox sent) departs from the schema for this document."""
    from graphql import execute, parse
    from graphql.language import InlineFragmentNode, Visitor, visit

    document = parse(query)
    conditions: list[str] = []

    class Conditions(Visitor):
        def enter_inline_fragment(self, node: InlineFragmentNode, *_):
            if node.type_condition:
                conditions.append(node.type_condition.name.value)

        def enter_fragment_definition(self, node, *_):
            conditions.append(node.type_condition.name.value)

    visit(document, Conditions())

    def field(source, info, **_):
        return source.get(info.path.key) if isinstance(source, dict) else None

    def type_of(value, info, abstract):
        if isinstance(value, dict) and "__typename" in value:
            return value["__typename"]
        possible = info.schema.get_possible_types(abstract)
        keys = set(value) if isinstance(value, dict) else set()
        fitting = [t for t in possible if all(k in t.fields or k in ("due", "status", "filter") for k in keys)]
        # a type the document names (itself or an interface of it), the plainest first: the one
        # whose fields explain the keys with the fewest to spare
        named = [t for t in fitting if t.name in conditions or any(i.name in conditions for i in t.interfaces)]
        return min(named or fitting or possible, key=lambda t: len(t.fields)).name

    if answer.get("data") is None:
        return [] if answer.get("errors") else ["an answer with neither data nor errors"]
    result = execute(schema(), document, root_value=answer["data"], variable_values=variables,
                     field_resolver=field, type_resolver=type_of)
    problems = [e.message for e in result.errors or ()]
    # errors GitHub reported null their fields; what is left must come back unchanged
    if not answer.get("errors") and result.data != answer["data"]:
        problems.append("the answer holds values its declared types do not serialise to")
    return problems
