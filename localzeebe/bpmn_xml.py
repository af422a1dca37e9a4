"""A tiny XML tree with line numbers, read with expat (no DTDs, no entities: untrusted input is safe)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class XmlError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"{message} (line {line})")
        self.line = line


@dataclass
class XmlNode:
    namespace: str
    tag: str
    attributes: dict[str, str]
    line: int
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""

    def attr(self, name: str, namespace: str = "") -> str | None:
        return self.attributes.get(f"{namespace} {name}" if namespace else name)

    def elements(self, namespace: str, tag: str | None = None) -> Iterator[XmlNode]:
        for child in self.children:
            if child.namespace == namespace and (tag is None or child.tag == tag):
                yield child

    def first(self, namespace: str, tag: str) -> XmlNode | None:
        return next(self.elements(namespace, tag), None)


def _split(name: str) -> tuple[str, str]:
    namespace, _, local = name.rpartition(" ")
    return namespace, local


def parse_xml(content: bytes) -> XmlNode:
    """Parse XML into XmlNode trees; DOCTYPE declarations are refused outright."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[XmlNode] = []
    roots: list[XmlNode] = []

    def refuse_doctype(*_: object) -> None:
        raise XmlError("DOCTYPE declarations are not allowed", parser.CurrentLineNumber)

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, tag = _split(name)
        node = XmlNode(namespace, tag, attributes, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(content, True)
    except expat.ExpatError as error:
        raise XmlError(f"not well-formed XML: {expat.errors.messages[error.code]}", error.lineno) from None
    if not roots:
        raise XmlError("empty document", 1)
    return roots[0]
