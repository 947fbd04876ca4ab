"""Turn a Swagger 2.0 document (the official one, with cross-file ``$ref`` and ``allOf``) into a self-contained one.

The result has the shape of the bundled contract document: every schema the selected operations reach is copied into
local ``definitions`` (named after its definition), ``allOf`` is merged into plain ``properties`` / ``required``, and
parameters are inlined. References are followed lazily, so a file the operations never reach need not exist.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pytest_runcommand.errors import InputError

__all__ = ["load_document_file", "resolve_swagger"]

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def load_document_file(path: Path) -> dict[str, Any]:
    """Read a JSON or YAML document, with an :class:`InputError` naming the file when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a Swagger 2.0 object at the top level")
    return data


Substitute = Callable[[Path], Path | None]
"""Given a referenced file that does not exist, the stored file to read in its place (or None: an error)."""


class _Resolver:
    def __init__(self, root_path: Path, substitute: Substitute | None = None) -> None:
        self.root_path = root_path.resolve()
        self.files: dict[Path, dict[str, Any]] = {}
        self.definitions: dict[str, Any] = {}
        self._names: dict[tuple[Path, str], str] = {}
        self._substitute = substitute

    def locate(self, path: Path) -> Path:
        """The file to read for ``path``: itself, or the substitute for a referenced file that is not there."""
        path = path.resolve()
        if path in self.files or path.exists() or self._substitute is None:
            return path
        replacement = self._substitute(path)
        return path if replacement is None else replacement.resolve()

    def load(self, path: Path) -> dict[str, Any]:
        path = self.locate(path)
        if path not in self.files:
            if not path.exists():
                raise InputError(f"{path}: referenced file does not exist")
            self.files[path] = load_document_file(path)
        return self.files[path]

    def lookup(self, base: Path, ref: str) -> tuple[Path, str, Any]:
        """Follow ``ref`` from file ``base``: (file, JSON pointer, target)."""
        file_part, _, pointer = ref.partition("#")
        path = self.locate(base.parent / file_part) if file_part else base.resolve()
        node: Any = self.load(path)
        for token in [t for t in pointer.split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                raise InputError(f"{path}: $ref {ref!r} points at nothing (missing {token!r})")
            node = node[token]
        return path, pointer, node

    def definition_ref(self, base: Path, ref: str) -> dict[str, Any]:
        """Copy a referenced definition into ``definitions`` once and return a local ``$ref`` to it."""
        path, pointer, target = self.lookup(base, ref)
        key = (path, pointer)
        if key not in self._names:
            name = pointer.rsplit("/", 1)[-1] or path.stem
            unique = name
            counter = 2
            while unique in self.definitions:
                unique = f"{name}{counter}"
                counter += 1
            self._names[key] = unique
            self.definitions[unique] = {}  # placeholder: stops recursion on cycles
            self.definitions[unique] = self.schema(path, target)
        return {"$ref": f"#/definitions/{self._names[key]}"}

    def schema(self, base: Path, node: Any) -> Any:
        """Resolve references inside one schema and flatten its ``allOf``."""
        if isinstance(node, list):
            return [self.schema(base, item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and isinstance(node["$ref"], str):
            ref = node["$ref"]
            local = self.definition_ref(base, ref)
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**local, **{k: self.schema(base, v) for k, v in extra.items()}}
        result: dict[str, Any] = {}
        for key, value in node.items():
            if key == "allOf":
                continue
            if key in ("properties", "definitions") and isinstance(value, dict):
                result[key] = {name: self.schema(base, sub) for name, sub in value.items()}
            else:
                result[key] = self.schema(base, value)
        for part in node.get("allOf", []):
            self._merge(result, self._expand(base, part))
        return result

    def _expand(self, base: Path, part: Any) -> dict[str, Any]:
        """A fully inlined copy of an ``allOf`` member (its own ``allOf`` merged too)."""
        if isinstance(part, dict) and "$ref" in part:
            path, _, target = self.lookup(base, part["$ref"])
            return self._expand(path, target)
        flattened = self.schema(base, part)
        return flattened if isinstance(flattened, dict) else {}

    @staticmethod
    def _merge(into: dict[str, Any], part: dict[str, Any]) -> None:
        properties = dict(part.get("properties", {}))
        properties.update(into.get("properties", {}))
        if properties:
            into["properties"] = properties
        required = list(dict.fromkeys([*part.get("required", []), *into.get("required", [])]))
        if required:
            into["required"] = required
        for key, value in part.items():
            if key not in ("properties", "required", "description"):
                into.setdefault(key, value)

    def parameter(self, base: Path, node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            path, _, target = self.lookup(base, node["$ref"])
            return self.parameter(path, target)
        resolved = {k: v for k, v in node.items() if k != "schema"}
        if "schema" in node:
            resolved["schema"] = self.schema(base, node["schema"])
        return resolved


def resolve_swagger(
    path: str | Path,
    *,
    path_filter: str | None = "runCommand",
    substitute: Substitute | None = None,
    document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load ``path`` and return a self-contained Swagger 2.0 document of the operations whose path contains
    ``path_filter``, case-insensitively (all operations when ``None``). The default keeps the run-command family:
    managed (``/runCommands``), diagnostic (``/diagnosticRunCommands``), the action (``/runCommand``) and the
    location catalogue.

    ``substitute`` names a stored file to read in place of a referenced one that is missing; ``document`` is the
    already loaded content of ``path`` (references still resolve from ``path``'s folder).
    """
    root_path = Path(path)
    resolver = _Resolver(root_path, substitute)
    if document is not None:
        resolver.files[root_path.resolve()] = document
    root = resolver.load(root_path)
    if str(root.get("swagger", "")) != "2.0":
        raise InputError(f"{root_path}: not a Swagger 2.0 document (no 'swagger: \"2.0\"' field)")
    paths: dict[str, Any] = {}
    for template, item in (root.get("paths") or {}).items():
        if path_filter is not None and path_filter.lower() not in template.lower():
            continue
        shared = [resolver.parameter(root_path, p) for p in item.get("parameters", [])]
        resolved_item: dict[str, Any] = {}
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            op = {k: copy.deepcopy(v) for k, v in operation.items() if k not in ("parameters", "responses")}
            own = [resolver.parameter(root_path, p) for p in operation.get("parameters", [])]
            names = {(p.get("name"), p.get("in")) for p in own}
            op["parameters"] = [p for p in shared if (p.get("name"), p.get("in")) not in names] + own
            op["responses"] = {
                str(code): {k: (resolver.schema(root_path, v) if k == "schema" else v) for k, v in response.items()}
                for code, response in (operation.get("responses") or {}).items()
            }
            resolved_item[method] = op
        if resolved_item:
            paths[template] = resolved_item
    return {
        "swagger": "2.0",
        "info": copy.deepcopy(root.get("info", {})),
        "host": root.get("host", "management.azure.com"),
        "schemes": root.get("schemes", ["https"]),
        "consumes": root.get("consumes", ["application/json"]),
        "produces": root.get("produces", ["application/json"]),
        "paths": paths,
        "definitions": resolver.definitions,
    }
