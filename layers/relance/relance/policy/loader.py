"""YAML loading that remembers where things are: every mapping and sequence knows its line.

``yaml.safe_load`` forgets lines and silently keeps the last of two duplicate keys; a policy author needs
``policies/x.yaml:14: duplicate key 'at'``. We compose the node tree with the safe loader (so tags and
scalars resolve exactly as usual) and build the Python values ourselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # imported where a file is read: a handler that loads no policy does not pay for it
    import yaml


class LineDict(dict[str, Any]):
    """A YAML mapping; ``line`` is where it starts, ``key_lines[key]`` where each key is (1-based)."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence; ``line`` is where it starts, ``item_lines[i]`` where item ``i`` is (1-based)."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class YamlProblem(Exception):
    """A problem at a line, found while reading the YAML itself."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def parse_yaml(text: str) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML document. Returns (value, problems): duplicate keys and non-string keys are problems
    (the value keeps the first occurrence); a syntax error raises YamlProblem."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            what = " ".join(part for part in (exc.context, exc.problem) if part)
            raise YamlProblem(line, f"YAML syntax error: {what}") from None
        except yaml.YAMLError as exc:
            raise YamlProblem(1, f"YAML syntax error: {exc}") from None
        if node is None:
            return None, []
        problems: list[YamlProblem] = []
        return _build(loader, node, problems, 0, [0]), problems
    finally:
        loader.dispose()


MAX_DEPTH = 50
MAX_NODES = 100_000   # aliases can expand a small file exponentially ("billion laughs")


def _build(loader: yaml.SafeLoader, node: yaml.Node, problems: list[YamlProblem], depth: int,
           count: list[int]) -> Any:
    import yaml

    count[0] += 1
    if depth > MAX_DEPTH:
        raise YamlProblem(_line(node), "YAML nesting is too deep (recursive alias?)")
    if count[0] > MAX_NODES:
        raise YamlProblem(_line(node), f"the file expands to more than {MAX_NODES} YAML values (aliases?)")
    if isinstance(node, yaml.MappingNode):
        mapping = LineDict()
        mapping.line = _line(node)
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(YamlProblem(_line(key_node), "keys must be words, not mappings or lists"))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(YamlProblem(_line(key_node), "merge keys (<<) are not supported in policies"))
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                problems.append(YamlProblem(_line(key_node),
                                            f"key {key!r} must be a word, not a {type(key).__name__}"))
                continue
            if key in mapping:
                problems.append(YamlProblem(
                    _line(key_node), f"duplicate key '{key}' (first at line {mapping.key_lines[key]})"))
                continue
            mapping.key_lines[key] = _line(key_node)
            mapping[key] = _build(loader, value_node, problems, depth + 1, count)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = LineList()
        sequence.line = _line(node)
        sequence.item_lines = []
        for item in node.value:
            sequence.item_lines.append(_line(item))
            sequence.append(_build(loader, item, problems, depth + 1, count))
        return sequence
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise YamlProblem(_line(node), f"YAML value error: {getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:   # e.g. an impossible date such as 2026-02-30, which YAML reads as a timestamp
        raise YamlProblem(_line(node), f"{node.value!r} is not a valid value: {exc}") from None
