"""`${...}` substitution and `$[...]` expressions, as pbx_substitute_variables and ast_expr2 do them."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

Resolver = Callable[[str], str]

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_ARITH_WORD = re.compile(r"\d+(?:[+\-*/%]\d+)+")
_OPERATORS = ("!=", "<=", ">=", "=~", "==", "=", "<", ">", "&", "|", "(", ")", "!")


def substitute(text: str, resolve: Resolver) -> str:
    """Expand `${name}` (via `resolve`) and `$[expr]`, innermost first, as Asterisk does."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("$", i)
        if j < 0 or j + 1 >= n:
            out.append(text[i:])
            break
        opener = text[j + 1]
        if opener not in "{[":
            out.append(text[i : j + 1])
            i = j + 1
            continue
        out.append(text[i:j])
        closer = "}" if opener == "{" else "]"
        depth = 1
        k = j + 2
        while k < n and depth:
            if text[k] == opener:
                depth += 1
            elif text[k] == closer:
                depth -= 1
            k += 1
        if depth:  # unterminated: Asterisk keeps the text as it is
            out.append(text[j:])
            break
        inner = substitute(text[j + 2 : k - 1], resolve)
        out.append(resolve(inner) if opener == "{" else evaluate(inner))
        i = k
    return "".join(out)


def is_true(value: str) -> bool:
    """pbx_checkcondition: empty is false, a number is its value, any other text is true."""
    value = value.strip()
    if not value:
        return False
    if _NUMBER.fullmatch(value):
        return float(value) != 0
    return True


def tokenize(expr: str) -> list[tuple[str, str]]:
    """Tokens as (kind, text); kind is 'op' or 'val'. Quoted strings lose their quotes."""
    tokens: list[tuple[str, str]] = []
    i = 0
    n = len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            end = expr.find('"', i + 1)
            end = n if end < 0 else end
            tokens.append(("val", expr[i + 1 : end]))
            i = end + 1
            continue
        op = next((o for o in _OPERATORS if expr.startswith(o, i)), None)
        if op is not None:
            tokens.append(("op", op))
            i += len(op)
            continue
        start = i
        while (
            i < n
            and not expr[i].isspace()
            and expr[i] != '"'
            and not any(expr.startswith(o, i) for o in _OPERATORS)
        ):
            i += 1
        word = expr[start:i]
        # `+ - * / %` are operators when they stand alone or sit between numbers (`5+1`);
        # inside words (`zh-legal`) they are text, as with Asterisk's lexer.
        if word in ("+", "-", "*", "/", "%"):
            tokens.append(("op", word))
        elif _ARITH_WORD.fullmatch(word):
            for part in re.findall(r"\d+|[+\-*/%]", word):
                tokens.append(("val" if part[0].isdigit() else "op", part))
        else:
            tokens.append(("val", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "op":
            return self.tokens[self.pos][1]
        return None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ValueError("unexpected end of expression")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> str:
        value = self.parse_or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected token {self.tokens[self.pos][1]!r}")
        return value

    def parse_or(self) -> str:
        left = self.parse_and()
        while self.peek() == "|":
            self.take()
            right = self.parse_and()
            left = left if is_true(left) else (right if is_true(right) else "0")
        return left

    def parse_and(self) -> str:
        left = self.parse_cmp()
        while self.peek() == "&":
            self.take()
            right = self.parse_cmp()
            left = left if is_true(left) and is_true(right) else "0"
        return left

    def parse_cmp(self) -> str:
        left = self.parse_add()
        while self.peek() in ("=", "==", "!=", "<", ">", "<=", ">=", "=~"):
            op = self.take()[1]
            right = self.parse_add()
            left = _compare(op, left, right)
        return left

    def parse_add(self) -> str:
        left = self.parse_mul()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            left = _arith(op, left, self.parse_mul())
        return left

    def parse_mul(self) -> str:
        left = self.parse_unary()
        while self.peek() in ("*", "/", "%"):
            op = self.take()[1]
            left = _arith(op, left, self.parse_unary())
        return left

    def parse_unary(self) -> str:
        op = self.peek()
        if op == "!":
            self.take()
            return "0" if is_true(self.parse_unary()) else "1"
        if op == "-":
            self.take()
            return _arith("-", "0", self.parse_unary())
        if op == "(":
            self.take()
            value = self.parse_or()
            if self.peek() != ")":
                raise ValueError("missing ')'")
            self.take()
            return value
        kind, text = self.take()
        if kind == "op":
            raise ValueError(f"unexpected operator {text!r}")
        return text


def _num(value: str) -> float | int | None:
    value = value.strip()
    if not _NUMBER.fullmatch(value):
        return None
    return float(value) if "." in value else int(value)


def _format(number: float | int) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _compare(op: str, left: str, right: str) -> str:
    if op == "=~":
        match = re.match(right, left)
        return "0" if match is None else str(match.end())
    a, b = _num(left), _num(right)
    pair: tuple[float | int | str, float | int | str] = (
        (a, b) if a is not None and b is not None else (left, right)
    )
    x, y = pair
    if op in ("=", "=="):
        result = x == y
    elif op == "!=":
        result = x != y
    elif isinstance(x, str) or isinstance(y, str):
        sx, sy = str(x), str(y)
        result = {"<": sx < sy, ">": sx > sy, "<=": sx <= sy, ">=": sx >= sy}[op]
    else:
        result = {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
    return "1" if result else "0"


def _arith(op: str, left: str, right: str) -> str:
    a, b = _num(left), _num(right)
    if a is None or b is None:
        raise ValueError(f"non-numeric argument to {op}: {left!r} {right!r}")
    if op == "+":
        return _format(a + b)
    if op == "-":
        return _format(a - b)
    if op == "*":
        return _format(a * b)
    if b == 0:
        raise ValueError("division by zero")
    if op == "/":
        return _format(a // b if isinstance(a, int) and isinstance(b, int) else a / b)
    return _format(a % b)


def evaluate(expr: str) -> str:
    """Evaluate the inside of `$[...]`; a syntax error gives "" and a warning, as Asterisk logs one."""
    try:
        tokens = tokenize(expr)
        if not tokens:
            return ""
        return _Parser(tokens).parse()
    except (ValueError, re.error) as exc:
        log.warning("bad expression $[%s]: %s", expr, exc)
        return ""


def split_args(data: str, sep: str = ",") -> list[str]:
    """ast_app_separate_args: split on `sep` outside quotes and brackets; quotes are removed."""
    args: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == "\\" and i + 1 < len(data):
            current.append(data[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth += 1
            current.append(ch)
        elif not quoted and ch in ")]}":
            depth = max(depth - 1, 0)
            current.append(ch)
        elif ch == sep and not quoted and depth == 0:
            args.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    args.append("".join(current))
    return args


def arg_float(text: str, default: float) -> float:
    """A numeric application argument (a timeout, a count); ``default`` when empty or not a number."""
    try:
        return float(text) if text.strip() else default
    except ValueError:
        return default
