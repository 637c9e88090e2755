"""AWS's query protocols: ``query`` (IAM, STS) and ``ec2`` (EC2), driven by botocore's models.

Requests are HTML forms (``application/x-www-form-urlencoded``): ``Action`` names the operation,
``Version`` the API version, and every parameter is a flattened key. In the ``query`` protocol a
list is ``Name.member.N`` (the member's own name when the model gives one), a map
``Name.entry.N.key``/``.value`` and a structure ``Name.Member``; in the ``ec2`` protocol every list
is flattened (``VolumeId.1``, ``Filter.1.Value.1``) and names come from the model's ``queryName``
(or its capitalised ``locationName``). The form is first rebuilt as the JSON-shaped value the
model describes (typed by the shape: integers, booleans, lists in index order), then handed to the
same :class:`~simulator.wire.shapes.ShapeCodec` the JSON protocol uses, which maps members to the
service methods' snake_case parameters.

Responses are XML built with the standard library's :mod:`xml.etree.ElementTree` (this module
builds XML and never parses any): ``<XResponse><XResult>...</XResult><ResponseMetadata>
<RequestId>`` for ``query``; ``<XResponse><requestId>...`` with EC2's ``<item>`` lists for
``ec2``. Errors: ``<ErrorResponse><Error><Type><Code><Message>`` (query) and
``<Response><Errors><Error><Code><Message></Errors><RequestID>`` (ec2), with the HTTP status the
error carries, so botocore raises ``ClientError`` with the same code as the Python API.

Untrusted input: the body is parsed as a form only (an XML-looking body is just a malformed form),
with at most :data:`MAX_FIELDS` fields, keys of at most :data:`MAX_KEY` characters and
:data:`MAX_DEPTH` levels; list indexes are bounded. IAM returns policy documents URL-encoded, as
AWS does (botocore decodes them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from xml.etree import ElementTree

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from ..errors import (
    AwsError,
    InvalidAction,
    MalformedQueryString,
    MissingAction,
    UnknownParameter,
)
from .protocols import WireRequest, WireResponse
from .shapes import Base64Blobs, Decoder, ShapeCodec, conversion_error

__all__ = ["MAX_DEPTH", "MAX_FIELDS", "MAX_KEY", "Ec2Protocol", "QueryProtocol"]

MAX_FIELDS = 2000
MAX_KEY = 512
MAX_DEPTH = 12
_MAX_INDEX = 1000
_INTEGER = re.compile(r"-?\d{1,19}\Z")
_FORM_TYPE = "application/x-www-form-urlencoded"
# XML 1.0 cannot carry these characters at all (not even escaped).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _QueryScalars(Base64Blobs):
    """Blobs are base64 text, timestamps ISO 8601 (in both directions)."""

    @staticmethod
    def timestamp_in(value: object, where: str) -> datetime:
        if type(value) is str:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        raise conversion_error(where, "an ISO 8601 timestamp", value)

    @staticmethod
    def timestamp_out(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_Tree = dict[str, Any]  # a form rebuilt by its dotted keys: leaves are strings


class _QueryBase:
    """What the two query protocols share; subclasses say how names and lists look."""

    name = "query"
    ec2 = False

    def __init__(self) -> None:
        self.shapes = ShapeCodec(_QueryScalars())
        self._decoders: dict[int, Decoder] = {}
        # The form of the request being served: ``operation`` parses it, ``decode`` reads it
        # (a gateway serves one request at a time).
        self._parsed: tuple[WireRequest, _Tree] | None = None

    # --- requests -------------------------------------------------------------------------

    def operation(self, model: ServiceModel, request: WireRequest) -> OperationModel:
        form = self._form(request)
        self._parsed = (request, form)
        action = form.pop("Action", None)
        version = form.pop("Version", None)
        if not isinstance(action, str) or not action:
            raise MissingAction("The request must contain the parameter Action.")
        if action not in model.operation_names:
            raise InvalidAction(
                f"The action {action[:100]} is not valid for this web service "
                f"({model.service_id}).")
        if version != model.api_version:
            shown = version[:40] if isinstance(version, str) else "none"
            raise InvalidAction(
                f"Could not find operation {action} for version {shown} of "
                f"{model.service_id}: this endpoint serves version {model.api_version}.")
        operation: OperationModel = model.operation_model(action)
        return operation

    def decode(self, operation: OperationModel, request: WireRequest) -> dict[str, Any]:
        parsed = self._parsed
        tree = parsed[1] if parsed is not None and parsed[0] is request else self._form(request)
        self._parsed = None
        tree.pop("Action", None)
        tree.pop("Version", None)
        shape = operation.input_shape
        if shape is None:
            if tree:
                raise self._unknown(sorted(tree)[0], operation.name)
            return {}
        value = self._read_structure(shape, tree, "", operation.name)
        decoder = self._decoders.get(id(operation))
        if decoder is None:
            decoder = self._decoders[id(operation)] = self.shapes.decoder(shape)
        params: dict[str, Any] = decoder(value, "")
        return params

    def _form(self, request: WireRequest) -> _Tree:
        if request.method == "POST":
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != _FORM_TYPE:
                raise MalformedQueryString(
                    f"Content-Type '{content_type[:100]}' is not supported: send "
                    f"{_FORM_TYPE}.")
            raw = request.body
        else:
            raw = request.query.encode("latin-1", "replace")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedQueryString("The request body is not UTF-8.") from None
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                              max_num_fields=MAX_FIELDS)
        except ValueError:
            raise MalformedQueryString(
                f"The request is not a well-formed form of at most {MAX_FIELDS} fields.") from None
        tree: _Tree = {}
        for key, value in pairs:
            parts = key.split(".")
            if len(key) > MAX_KEY or len(parts) > MAX_DEPTH or not all(parts):
                raise MalformedQueryString(f"The parameter name '{key[:100]}' is malformed.")
            node = tree
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise MalformedQueryString(
                        f"The parameter '{key[:100]}' conflicts with another parameter.")
                node = child
            if parts[-1] in node:
                raise MalformedQueryString(f"The parameter '{key[:100]}' is given twice.")
            node[parts[-1]] = value
        return tree

    # names and lists: what differs between query and ec2

    def _member_name(self, member: Shape, name: str) -> str:
        return str(member.serialization.get("name", name))

    def _list_items(self, shape: ListShape, node: Any, where: str) -> Any:
        if node == "":
            return {}
        if shape.serialization.get("flattened"):
            return node
        if not isinstance(node, dict):
            return node
        return node.get(str(shape.member.serialization.get("name", "member")), {})

    # the walk: form tree -> the JSON-shaped value the model describes

    def _read(self, shape: Shape, node: Any, where: str, operation: str) -> Any:
        if isinstance(shape, StructureShape):
            if not isinstance(node, dict):
                raise self._bad(where, "a structure")
            return self._read_structure(shape, node, where, operation)
        if isinstance(shape, ListShape):
            items = self._list_items(shape, node, where)
            if not isinstance(items, dict):
                raise self._bad(where, "a list")
            out = []
            for i, key in enumerate(sorted(items, key=_index(where)), 1):
                if int(key) != i:
                    raise MalformedQueryString(f"The list '{where}' skips index {i}.")
                out.append(self._read(shape.member, items[key], f"{where}.{key}", operation))
            return out
        if isinstance(shape, MapShape):
            entries = node if shape.serialization.get("flattened") else (
                node.get("entry", {}) if isinstance(node, dict) else node)
            if not isinstance(entries, dict):
                raise self._bad(where, "a map")
            key_name = str(shape.key.serialization.get("name", "key"))
            value_name = str(shape.value.serialization.get("name", "value"))
            result: dict[str, Any] = {}
            for index in sorted(entries, key=_index(where)):
                entry = entries[index]
                if not isinstance(entry, dict) or not isinstance(entry.get(key_name), str):
                    raise self._bad(f"{where}.{index}", "a map entry")
                result[entry[key_name]] = self._read(shape.value, entry.get(value_name, ""),
                                                     f"{where}.{index}.{value_name}", operation)
            return result
        if not isinstance(node, str):
            raise self._bad(where, f"a {shape.type_name}")
        kind = shape.type_name
        if kind in ("integer", "long"):
            if not _INTEGER.match(node):
                raise self._bad(where, "an integer")
            return int(node)
        if kind == "boolean":
            if node not in ("true", "false"):
                raise self._bad(where, "true or false")
            return node == "true"
        if kind in ("double", "float"):
            try:
                return float(node)
            except ValueError:
                raise self._bad(where, "a number") from None
        return node  # strings, and blobs/timestamps (their text, decoded by the shape codec)

    def _read_structure(self, shape: StructureShape, node: _Tree, where: str,
                        operation: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: set[str] = set()
        for name, member in shape.members.items():
            wire = self._member_name(member, name)
            if wire in node:
                seen.add(wire)
                out[name] = self._read(member, node[wire], f"{where}.{wire}" if where else wire,
                                       operation)
        for key in node:
            if key not in seen:
                raise self._unknown(f"{where}.{key}" if where else key, operation)
        return out

    def _bad(self, where: str, expected: str) -> AwsError:
        return MalformedQueryString(f"The value of '{where[:200]}' is not {expected}.")

    def _unknown(self, name: str, operation: str) -> AwsError:
        return MalformedQueryString(f"{operation} has no parameter '{name[:200]}'.")

    # --- responses ------------------------------------------------------------------------

    def encode(self, operation: OperationModel, result: Any, request_id: str) -> WireResponse:
        shape = operation.output_shape
        value = self.shapes.output(shape, result)
        model = operation.service_model
        root = ElementTree.Element(f"{operation.name}Response",
                                   xmlns=str(model.metadata.get("xmlNamespace", "")))
        self._envelope(root, operation, shape, value, request_id)
        return WireResponse(200, _serialize(root), {"content-type": "text/xml",
                                                     "x-amzn-requestid": request_id})

    def _envelope(self, root: ElementTree.Element, operation: OperationModel,
                  shape: StructureShape | None, value: dict[str, Any], request_id: str) -> None:
        body = root
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        if wrapper:
            body = ElementTree.SubElement(root, str(wrapper))
        if shape is not None:
            self._write_members(body, shape, value)
        meta = ElementTree.SubElement(root, "ResponseMetadata")
        ElementTree.SubElement(meta, "RequestId").text = request_id

    def _write_members(self, parent: ElementTree.Element, shape: StructureShape,
                       value: Mapping[str, Any]) -> None:
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                self._write(parent, self._member_name_out(member, name), member, item)

    def _member_name_out(self, member: Shape, name: str) -> str:
        return str(member.serialization.get("name", name))

    def _write(self, parent: ElementTree.Element, tag: str, shape: Shape, value: Any) -> None:
        if isinstance(shape, StructureShape):
            self._write_members(ElementTree.SubElement(parent, tag), shape, value)
            return
        if isinstance(shape, ListShape):
            member_tag = str(shape.member.serialization.get("name", "member"))
            if shape.serialization.get("flattened"):
                for item in value:
                    self._write(parent, member_tag if "name" in shape.member.serialization
                                else tag, shape.member, item)
                return
            container = ElementTree.SubElement(parent, tag)
            for item in value:
                self._write(container, member_tag, shape.member, item)
            return
        if isinstance(shape, MapShape):
            container = ElementTree.SubElement(parent, tag)
            key_tag = str(shape.key.serialization.get("name", "key"))
            value_tag = str(shape.value.serialization.get("name", "value"))
            for k, v in value.items():
                entry = ElementTree.SubElement(container, "entry")
                ElementTree.SubElement(entry, key_tag).text = _text(k)
                self._write(entry, value_tag, shape.value, v)
            return
        if shape.type_name == "boolean":
            text = "true" if value else "false"
        elif shape.name == "policyDocumentType":
            text = quote(str(value), safe="")  # IAM sends policy documents URL-encoded
        else:
            text = str(value)
        ElementTree.SubElement(parent, tag).text = _text(text)

    def error(self, error: AwsError, request_id: str) -> WireResponse:
        root = ElementTree.Element("ErrorResponse")
        node = ElementTree.SubElement(root, "Error")
        ElementTree.SubElement(node, "Type").text = (
            "Receiver" if error.http_status >= 500 else "Sender")
        ElementTree.SubElement(node, "Code").text = _text(error.code)
        ElementTree.SubElement(node, "Message").text = _text(error.message)
        ElementTree.SubElement(root, "RequestId").text = request_id
        return WireResponse(error.http_status, _serialize(root),
                            {"content-type": "text/xml", "x-amzn-requestid": request_id})


class QueryProtocol(_QueryBase):
    """The ``query`` protocol (IAM, STS)."""

    name = "query"


class Ec2Protocol(_QueryBase):
    """The ``ec2`` protocol: flattened lists everywhere, ``queryName``s, EC2's envelopes."""

    name = "ec2"
    ec2 = True

    def _member_name(self, member: Shape, name: str) -> str:
        serialization = member.serialization
        if "queryName" in serialization:
            return str(serialization["queryName"])
        if "name" in serialization:
            located = str(serialization["name"])
            return located[:1].upper() + located[1:]
        return name

    def _list_items(self, shape: ListShape, node: Any, where: str) -> Any:
        return {} if node == "" else node

    def _unknown(self, name: str, operation: str) -> AwsError:
        return UnknownParameter(f"The parameter {name[:200]} is not recognized")

    def _envelope(self, root: ElementTree.Element, operation: OperationModel,
                  shape: StructureShape | None, value: dict[str, Any], request_id: str) -> None:
        ElementTree.SubElement(root, "requestId").text = request_id
        if shape is not None and shape.members:
            self._write_members(root, shape, value)
        else:
            ElementTree.SubElement(root, "return").text = "true"

    def error(self, error: AwsError, request_id: str) -> WireResponse:
        root = ElementTree.Element("Response")
        errors = ElementTree.SubElement(root, "Errors")
        node = ElementTree.SubElement(errors, "Error")
        ElementTree.SubElement(node, "Code").text = _text(error.code)
        ElementTree.SubElement(node, "Message").text = _text(error.message)
        ElementTree.SubElement(root, "RequestID").text = request_id
        return WireResponse(error.http_status, _serialize(root),
                            {"content-type": "text/xml", "x-amzn-requestid": request_id})


def _index(where: str) -> Any:
    def key(index: str) -> int:
        if not index.isdigit() or not 1 <= len(index) <= 4 or not 1 <= int(index) <= _MAX_INDEX:
            raise MalformedQueryString(
                f"'{where[:100]}.{index[:20]}' is not an index from 1 to {_MAX_INDEX}.")
        return int(index)
    return key


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _serialize(root: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(root, "utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
