"""Read graph-level ``ios`` MLIR (as ``ios-opt`` or :mod:`ios.builder` prints
it) back into an :class:`ios.builder.Graph`.

So :mod:`ios.reference` evaluates any graph-level ``.mlir`` plus its
safetensors weights, not only zoo graphs::

    from ios import mlir_reader, reference, safetensors
    graph = mlir_reader.read("graph.mlir")
    params, _ = safetensors.load("weights.safetensors")
    (y,) = reference.run(graph, params, x)

Accepted: one ``func.func`` (optionally inside ``module { }``) whose
arguments are ``{ios.input}`` or ``{ios.param = "name"}``, with the custom
(pretty) syntax of every graph op, attributes in any order, default-valued
attributes omitted, ``loc("name")`` / ``loc(#alias)`` / ``loc(fused[...])``
locations (the op name is the location's first name), type aliases
(``!t = tensor<...>``), ``ios.unit`` / ``ios.part``, and several results.
Every op is rebuilt with the builder, so shapes are inferred and checked
against the declared types. Not accepted: schedules (``ios.stage``), the
generic op form, several functions.
"""

import re
import sys

from ios.builder import BuildError, Graph

_WS = re.compile(r"(?:\s+|//[^\n]*)*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.$-]*")
_SSA = re.compile(r"%[A-Za-z0-9_.$-]+")
_HASH = re.compile(r"#[A-Za-z0-9_.$-]+")
_BANG = re.compile(r"![A-Za-z0-9_.$-]+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+)")
_TENSOR = re.compile(r"tensor<((?:\d+x)*)f32>")

# Op attributes besides ios.unit / ios.part, per op kind.
_ATTRS = {
    "conv2d": {"strides", "padding", "dilations", "groups", "act"},
    "pool2d": {"kernel", "strides", "padding", "ceil_mode", "count_include_pad"},
    "activation": set(), "add": set(), "mul": set(), "concat": set(), "flatten": set(),
    "linear": set(), "softmax": set(), "affine": set(),
    "slice": set(),
    "pad": {"pads", "value"},
    "upsample": {"scale"},
    "channel_shuffle": {"groups"},
}
# Ops whose custom syntax starts with a keyword (their kind / mode).
_KEYWORD_OPS = {"pool2d", "activation", "upsample"}


class MlirReadError(ValueError):
    """The text is not graph-level ios MLIR this reader accepts (file:line:col: why)."""


def _unescape(lit):
    body = lit[1:-1]
    return re.sub(r'\\(["\\])|\\([0-9a-fA-F]{2})',
                  lambda m: m.group(1) or chr(int(m.group(2), 16)), body)


class _Parser:
    def __init__(self, text, path):
        self.text, self.path, self.pos = text, path, 0
        self.loc_aliases = {}
        self.type_aliases = {}

    # -- lexing --------------------------------------------------------------------

    def error(self, msg, pos=None):
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        raise MlirReadError(f"{self.path}:{line}:{col}: {msg}")

    def ws(self):
        self.pos = _WS.match(self.text, self.pos).end()

    def at(self, s):
        self.ws()
        return self.text.startswith(s, self.pos)

    def accept(self, s):
        if self.at(s):
            if s[-1].isalnum() and self.pos + len(s) < len(self.text) and (
                    self.text[self.pos + len(s)].isalnum() or self.text[self.pos + len(s)] in "_."):
                return False  # a longer word
            self.pos += len(s)
            return True
        return False

    def expect(self, s):
        if not self.accept(s):
            found = self.text[self.pos:self.pos + 20].split("\n")[0]
            self.error(f"expected '{s}', found '{found}'")

    def match(self, regex, what):
        self.ws()
        m = regex.match(self.text, self.pos)
        if not m:
            found = self.text[self.pos:self.pos + 20].split("\n")[0]
            self.error(f"expected {what}, found '{found}'")
        self.pos = m.end()
        return m.group(0)

    def balanced(self, open_ch, close_ch):
        """Text after ``open_ch`` (already consumed) up to its matching ``close_ch``."""
        depth, start, i = 1, self.pos, self.pos
        while i < len(self.text):
            c = self.text[i]
            if c == '"':
                m = _STRING.match(self.text, i)
                if not m:
                    self.error("unterminated string", i)
                i = m.end()
                continue
            if c == open_ch:
                depth += 1
            elif c == close_ch:
                depth -= 1
                if depth == 0:
                    self.pos = i + 1
                    return self.text[start:i]
            i += 1
        self.error(f"no matching '{close_ch}'", start)

    # -- types, attributes, locations -----------------------------------------------

    def type(self):
        self.ws()
        if self.text.startswith("!", self.pos):
            name = self.match(_BANG, "a type alias")
            if name not in self.type_aliases:
                self.error(f"unknown type alias {name}")
            return self.type_aliases[name]
        start = self.pos
        m = _TENSOR.match(self.text, self.pos)
        if not m:
            self.error("expected a statically shaped f32 tensor type")
        self.pos = m.end()
        dims = tuple(int(d) for d in m.group(1).split("x") if d)
        if any(d < 1 for d in dims):
            self.error("tensor dimensions must be positive", start)
        return dims

    def type_list(self):
        types = [self.type()]
        while self.accept(","):
            types.append(self.type())
        return types

    def attr_value(self):
        self.ws()
        if self.accept("array<"):
            body = self.balanced("<", ">")
            elt, _, vals = body.partition(":")
            if elt.strip() != "i64":
                self.error(f"unsupported array attribute array<{body}>")
            return tuple(int(v) for v in vals.split(",") if v.strip())
        if self.text.startswith('"', self.pos):
            return _unescape(self.match(_STRING, "a string"))
        if self.text.startswith("#", self.pos):
            name = self.match(_HASH, "an attribute")
            if self.accept("<"):
                return self.balanced("<", ">").strip()
            return name
        if self.accept("true"):
            return True
        if self.accept("false"):
            return False
        if self.accept("unit"):
            return True
        num = self.match(_NUMBER, "an attribute value")
        value = float(num) if ("." in num or "e" in num.lower()) and not num.startswith(
            "0x") else int(num, 0)
        if self.accept(":"):
            t = self.match(_NAME, "a type")
            if t.startswith("f"):
                value = float(value)
            elif not t.startswith("i") and t != "index":
                self.error(f"unsupported attribute type {t}")
        return value

    def attr_dict(self):
        attrs = {}
        if not self.accept("{"):
            return attrs
        if self.accept("}"):
            return attrs
        while True:
            self.ws()
            if self.text.startswith('"', self.pos):
                key = _unescape(self.match(_STRING, "an attribute name"))
            else:
                key = self.match(_NAME, "an attribute name")
            attrs[key] = self.attr_value() if self.accept("=") else True
            if self.accept("}"):
                return attrs
            self.expect(",")

    def location(self):
        """The raw text of a trailing ``loc(...)`` (None if absent)."""
        if not self.accept("loc("):
            return None
        return self.balanced("(", ")")

    def loc_name(self, raw, depth=0):
        """First name of a location text: ``"n"`` / ``"n"(child)`` / ``#alias`` /
        ``fused[...]`` / ``callsite(a at b)``; None for file and unknown locations."""
        if raw is None or depth > 50:
            return None
        raw = raw.strip()
        if raw.startswith("#"):
            return self.loc_name(self.loc_aliases.get(raw), depth + 1)
        if raw.startswith('"'):
            m = _STRING.match(raw)
            rest = raw[m.end():].lstrip()
            return None if rest.startswith(":") else _unescape(m.group(0))
        if raw.startswith("fused") or raw.startswith("callsite"):
            inner = raw[raw.find("[") + 1:] if raw.startswith("fused") else raw[9:]
            # the first name among the parts: string literals not followed by ':'
            i = 0
            while i < len(inner):
                if inner[i] == '"':
                    m = _STRING.match(inner, i)
                    if not m:
                        return None
                    i = m.end()
                    if not inner[i:].lstrip().startswith(":"):
                        return _unescape(m.group(0))
                elif inner[i] == "#":
                    m = _HASH.match(inner, i)
                    i = m.end()
                    name = self.loc_name(m.group(0), depth + 1)
                    if name is not None:
                        return name
                else:
                    i += 1
        return None

    # -- structure -----------------------------------------------------------------

    def parse(self):
        func = None
        depth_module = 0
        while True:
            self.ws()
            if self.pos >= len(self.text):
                break
            if self.at("#"):
                name = self.match(_HASH, "an alias")
                self.expect("=")
                if self.accept("loc("):
                    self.loc_aliases[name] = self.balanced("(", ")")
                else:
                    self.error(f"unsupported attribute alias {name}")
            elif self.at("!"):
                name = self.match(_BANG, "a type alias")
                self.expect("=")
                self.type_aliases[name] = self.type()
            elif self.accept("module"):
                if self.at("@"):
                    self.match(re.compile(r"@[A-Za-z0-9_.$-]+"), "a module name")
                if self.accept("attributes"):
                    self.attr_dict()
                self.expect("{")
                depth_module += 1
            elif self.accept("func.func"):
                if func is not None:
                    self.error("several functions: only one graph per file is supported")
                func = self.function()
            elif self.at("}") and depth_module:
                self.expect("}")
                depth_module -= 1
                self.location()
            else:
                self.error("expected a func.func, module or alias")
        if func is None:
            self.error("no func.func found")
        return func

    def function(self):
        self.accept("private")
        name = self.match(re.compile(r"@[A-Za-z0-9_.$-]+"), "a function name")[1:]
        self.expect("(")
        args = []
        if not self.accept(")"):
            while True:
                start = self.pos
                ssa = self.match(_SSA, "an argument")
                self.expect(":")
                shape = self.type()
                attrs = self.attr_dict()
                self.location()
                args.append((ssa, shape, attrs, start))
                if self.accept(")"):
                    break
                self.expect(",")
        if self.accept("->"):
            if self.accept("("):
                self.type_list()
                self.expect(")")
            else:
                self.type()
        if self.accept("attributes"):
            self.attr_dict()
        self.expect("{")
        ops, ret = [], None
        while not self.accept("}"):
            start = self.pos
            if self.accept("return") or self.accept("func.return"):
                operands = [self.match(_SSA, "a value")] if self.at("%") else []
                while self.accept(","):
                    operands.append(self.match(_SSA, "a value"))
                types = self.type_list() if self.accept(":") else []
                self.location()
                ret = (operands, types, start)
            else:
                ops.append(self.operation())
        self.location()
        if ret is None:
            self.error("the function has no return")
        return name, args, ops, ret

    def operation(self):
        start = self.pos
        result = self.match(_SSA, "an op result")
        if self.at(":"):
            self.error("ops with several results are not graph ops")
        self.expect("=")
        self.ws()
        if self.at('"'):
            self.error("the generic op form is not supported")
        mnemonic = self.match(_NAME, "an op name")
        if not mnemonic.startswith("ios."):
            self.error(f"unsupported op {mnemonic}: only graph-level ios ops", start)
        kind = mnemonic[4:]
        if kind not in _ATTRS:
            self.error(f"unsupported op {mnemonic}"
                       + (": schedules cannot be read, read the graph before --ios-schedule"
                          if kind in ("stage", "group", "yield") else ""), start)
        keyword = self.match(_NAME, "a keyword") if kind in _KEYWORD_OPS else None
        operands = [self.match(_SSA, "an operand")]
        while self.accept(","):
            operands.append(self.match(_SSA, "an operand"))
        attrs = {}
        if kind == "slice":
            self.expect("[")
            attrs["begin"] = int(self.match(_NUMBER, "the slice begin"))
            self.expect(":")
            attrs["end"] = int(self.match(_NUMBER, "the slice end"))
            self.expect("]")
        attrs.update(self.attr_dict())
        self.expect(":")
        if self.accept("("):
            operand_types = self.type_list()
            self.expect(")")
        else:
            operand_types = self.type_list()
        result_type = self.type() if self.accept("->") else None
        loc = self.location()
        return dict(result=result, kind=kind, keyword=keyword, operands=operands, attrs=attrs,
                    operand_types=operand_types, result_type=result_type, loc=loc, pos=start)


def _build_op(g, op, args, attrs, name):
    kind, kw = op["kind"], op["keyword"]
    a = attrs
    if kind == "conv2d":
        x, w, b = args
        return g.conv2d(x, weight=w, bias=b, stride=a.get("strides", 1),
                        padding=a.get("padding", 0), dilation=a.get("dilations", 1),
                        groups=a.get("groups", 1), act=a.get("act", "none"), name=name)
    if kind == "pool2d":
        return g.pool2d(args[0], kw, kernel=a.get("kernel"), stride=a.get("strides"),
                        padding=a.get("padding", 0), ceil_mode=a.get("ceil_mode", False),
                        count_include_pad=a.get("count_include_pad", True), name=name)
    if kind == "activation":
        return g.activation(args[0], kw, name=name)
    if kind == "add":
        return g.add(*args, name=name)
    if kind == "mul":
        return g.mul(*args, name=name)
    if kind == "concat":
        return g.concat(args, name=name)
    if kind == "slice":
        return g.slice(args[0], a["begin"], a["end"], name=name)
    if kind == "flatten":
        return g.flatten(args[0], name=name)
    if kind == "linear":
        x, w, b = args
        return g.linear(x, weight=w, bias=b, name=name)
    if kind == "softmax":
        return g.softmax(args[0], name=name)
    if kind == "pad":
        if "pads" not in a:
            raise BuildError("ios.pad needs pads")
        return g.pad(args[0], a["pads"], a.get("value", 0.0), name=name)
    if kind == "affine":
        x, scale, shift = args
        return g.affine(x, scale, shift, name=name)
    if kind == "upsample":
        if "scale" not in a:
            raise BuildError("ios.upsample needs scale")
        return g.upsample(args[0], a["scale"], kw, name=name)
    if kind == "channel_shuffle":
        if "groups" not in a:
            raise BuildError("ios.channel_shuffle needs groups")
        return g.channel_shuffle(args[0], a["groups"], name=name)
    raise BuildError(f"cannot build ios.{kind}")  # pragma: no cover - _ATTRS lists the kinds


def parse(text, path="<string>"):
    """Parse graph-level ios MLIR text into a :class:`Graph` (raises
    :class:`MlirReadError` with file:line:col)."""
    p = _Parser(text, path)
    name, args, ops, ret = p.parse()
    inputs = [a for a in args if a[2].get("ios.input")]
    if not inputs:
        p.error("no argument is marked {ios.input}", args[0][3] if args else 0)
    try:
        g = Graph(name, batch=inputs[0][1][0] if inputs[0][1] else 1)
    except BuildError as e:
        p.error(str(e), 0)
    env = {}
    for ssa, shape, attrs, pos in args:
        try:
            if attrs.get("ios.input"):
                env[ssa] = g.input(shape, name=ssa[1:], full=True)
            elif isinstance(attrs.get("ios.param"), str):
                env[ssa] = g.param(attrs["ios.param"], shape, init=("given",))
            else:
                p.error(f"argument {ssa} is neither {{ios.input}} nor {{ios.param = \"name\"}}",
                        pos)
        except BuildError as e:
            p.error(str(e), pos)
    for op in ops:
        def fail(msg):
            p.error(f"ios.{op['kind']}: {msg}", op["pos"])
        attrs = dict(op["attrs"])
        unit, part = attrs.pop("ios.unit", None), attrs.pop("ios.part", None)
        unknown = sorted(set(attrs) - _ATTRS[op["kind"]] - {"begin", "end"})
        if unknown:
            fail(f"unknown attributes {unknown}")
        values = []
        for ssa in op["operands"]:
            if ssa not in env:
                fail(f"use of undefined value {ssa}")
            values.append(env[ssa])
        types, declared = op["operand_types"], op["result_type"]
        if len(types) == len(values):
            expected = types
        elif len(types) == 1 and declared is None:  # `: T` for operands and result alike
            expected = types * len(values)
        else:
            fail(f"{len(types)} operand types for {len(values)} operands")
        for ssa, v, t in zip(op["operands"], values, expected):
            if v.shape != t:
                fail(f"operand {ssa} is {list(v.shape)} but declared {list(t)}")
        if declared is None and len(types) == 1:
            declared = types[0]
        try:
            result = _build_op(g, op, values, attrs, p.loc_name(op["loc"]) or None)
        except BuildError as e:
            fail(str(e))
        if declared is not None and result.shape != declared:
            fail(f"declared result type {list(declared)} but the op gives {list(result.shape)}")
        result.op.unit = unit
        if part is not None:
            result.op.part = int(part)
        if op["result"] in env:
            fail(f"redefinition of {op['result']}")
        env[op["result"]] = result
    operands, types, pos = ret
    outs = []
    for i, ssa in enumerate(operands):
        if ssa not in env:
            p.error(f"return of undefined value {ssa}", pos)
        if i < len(types) and env[ssa].shape != types[i]:
            p.error(f"return type {list(types[i])} of {ssa} but it is "
                    f"{list(env[ssa].shape)}", pos)
        outs.append(env[ssa])
    try:
        g.output(*outs)
    except BuildError as e:
        p.error(str(e), pos)
    return g


def read(path):
    """Read the graph of the ``.mlir`` file ``path``."""
    with open(path) as f:
        return parse(f.read(), path)


def main(argv=None):  # pragma: no cover - thin wrapper, tested through ios.reference
    import argparse
    p = argparse.ArgumentParser(prog="python3 -m ios.mlir_reader",
                                description="Parse graph-level ios MLIR and print it again "
                                            "with ios.builder (checks shapes and types).")
    p.add_argument("file", help="the .mlir file")
    args = p.parse_args(argv)
    try:
        sys.stdout.write(read(args.file).to_mlir())
    except (MlirReadError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
