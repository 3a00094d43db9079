"""Read a CloudFormation/SAM template and resolve its intrinsic functions.

The YAML loader turns the short tags (``!Ref X``, ``!GetAtt A.B``, ``!Sub ...``) into their
long JSON form (``{"Ref": "X"}``, ``{"Fn::GetAtt": ["A", "B"]}``...), which is also what
samtranslator and cfn-lint expect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml

from relance.errors import RelanceError

NO_VALUE = object()
"""What ``!Ref AWS::NoValue`` resolves to; removed from the enclosing list or mapping."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that knows the CloudFormation short-form tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)
# CloudFormation keeps timestamps and "on"/"off" as strings; so does the resolver.
_CfnLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: Path | str) -> dict[str, Any]:
    """Parse a template file (YAML or JSON) into plain dicts with long-form intrinsics."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    except OSError as exc:
        raise RelanceError(f"cannot read template: {exc.strerror}", where=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RelanceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", where=where) from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise RelanceError("not a CloudFormation template (no Resources mapping)", where=str(path))
    return data


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def sub_variables(text: str) -> Iterator[str]:
    """Names referenced by a ``Fn::Sub`` string (``${X}``, ``${X.Attr}``); ``${!X}`` is a literal."""
    for match in _SUB_VAR.finditer(text):
        if not match.group(1).startswith("!"):
            yield match.group(1)


def references(node: Any) -> set[str]:
    """Logical ids (resources or parameters) a piece of template refers to."""
    found: set[str] = set()

    def walk(value: Any, sub_locals: frozenset[str] = frozenset()) -> None:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                    return
                if key == "Fn::GetAtt":
                    target = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                    found.add(str(target))
                    return
                if key == "Fn::Sub":
                    text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                    walk(local)
                    for name in sub_variables(text):
                        head = name.split(".", 1)[0]
                        if head not in local:
                            found.add(head)
                    return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return {name for name in found if not name.startswith("AWS::")}


class Unresolved(RelanceError):
    """An intrinsic function refers to something the resolver cannot give a value for."""


class Resolver:
    """Evaluate intrinsic functions against known parameters, resources and attributes.

    ``ref`` and ``getatt`` are callbacks that raise :class:`Unresolved` for unknown names.
    """

    def __init__(
        self,
        *,
        pseudo: Mapping[str, str],
        parameters: Mapping[str, str],
        ref: Callable[[str], str],
        getatt: Callable[[str, str], str],
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.pseudo = pseudo
        self.parameters = parameters
        self._ref = ref
        self._getatt = getatt
        self._conditions = dict(conditions or {})
        self._mappings = mappings or {}
        self._condition_values: dict[str, bool] = {}

    # -- public --------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        """Return ``node`` with every intrinsic function evaluated."""
        value = self._resolve(node)
        return None if value is NO_VALUE else value

    def condition(self, name: str) -> bool:
        """Value of a named condition of the template."""
        if name not in self._condition_values:
            if name not in self._conditions:
                raise Unresolved(f"unknown condition {name}")
            self._condition_values[name] = bool(self._resolve(self._conditions[name]))
        return self._condition_values[name]

    def ref(self, name: str) -> str:
        """What ``!Ref name`` gives."""
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self._ref(name)

    # -- evaluation ----------------------------------------------------------------
    def _resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self._resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = self._FUNCTIONS.get(key)
            # a one-key mapping {"Condition": {...}} is data (IAM), not the Condition function
            if handler is not None and not (key == "Condition" and not isinstance(arg, str)):
                return handler(self, arg)
        resolved = {k: self._resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _fn_ref(self, arg: Any) -> Any:
        if arg == "AWS::NoValue":
            return NO_VALUE
        return self.ref(str(arg))

    def _fn_getatt(self, arg: Any) -> str:
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        if len(parts) != 2:
            raise Unresolved(f"Fn::GetAtt needs Resource.Attribute, got {arg!r}")
        return self._getatt(str(parts[0]), str(self._resolve(parts[1])))

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, local = arg, {}
        else:
            text, local = arg[0], {k: self._resolve(v) for k, v in arg[1].items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and name not in self.pseudo:
                logical, attribute = name.split(".", 1)
                return self._getatt(logical, attribute)
            return str(self.ref(name))

        return _SUB_VAR.sub(replace, text)

    def _fn_join(self, arg: Any) -> str:
        sep, items = arg
        values = self._resolve(items)
        return str(sep).join(str(v) for v in values)

    def _fn_select(self, arg: Any) -> Any:
        index, items = self._resolve(arg[0]), self._resolve(arg[1])
        try:
            return items[int(index)]
        except (IndexError, ValueError) as exc:
            raise Unresolved(f"Fn::Select index {index} out of {items!r}") from exc

    def _fn_split(self, arg: Any) -> list[str]:
        sep, text = arg[0], self._resolve(arg[1])
        return str(text).split(str(sep))

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self._resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = (self._resolve(a) for a in arg)
        return str(left) == str(right)

    def _fn_not(self, arg: Any) -> bool:
        return not self._resolve(arg[0])

    def _fn_and(self, arg: Any) -> bool:
        return all(self._resolve(a) for a in arg)

    def _fn_or(self, arg: Any) -> bool:
        return any(self._resolve(a) for a in arg)

    def _fn_condition(self, arg: Any) -> bool:
        return self.condition(str(arg))

    def _fn_find_in_map(self, arg: Any) -> Any:
        name, top, second = (self._resolve(a) for a in arg[:3])
        try:
            return self._mappings[name][top][second]
        except KeyError as exc:
            raise Unresolved(f"Fn::FindInMap {name}/{top}/{second} not found") from exc

    def _fn_base64(self, arg: Any) -> str:
        import base64

        return base64.b64encode(str(self._resolve(arg)).encode()).decode()

    def _fn_get_azs(self, arg: Any) -> list[str]:
        region = self._resolve(arg) or self.pseudo["AWS::Region"]
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_to_json_string(self, arg: Any) -> str:
        import json

        return json.dumps(self._resolve(arg), separators=(",", ":"))

    _FUNCTIONS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_getatt,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Condition": _fn_condition,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::ToJsonString": _fn_to_json_string,
    }
