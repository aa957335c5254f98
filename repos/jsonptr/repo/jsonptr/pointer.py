"""RFC 6901 pointers: "/a/b~1c/0" addresses doc["a"]["b/c"][0]."""
from .errors import JsonPointerError


def _unescape(token):
    if "~" in token and any(token[i + 1:i + 2] not in ("0", "1")
                            for i, ch in enumerate(token) if ch == "~"):
        raise JsonPointerError(f"bad escape in token {token!r}")
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def array_index(token, size):
    """The list index a token names; size is the largest allowed value + 1."""
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise JsonPointerError(f"not an array index: {token!r}")
    index = int(token)
    if index >= size:
        raise JsonPointerError(f"index {index} out of range")
    return index


class Pointer:
    def __init__(self, text):
        if text and not text.startswith("/"):
            raise JsonPointerError(f"pointer must be empty or start with '/': {text!r}")
        self.text = text
        self.tokens = [_unescape(t) for t in text.split("/")[1:]]

    @classmethod
    def from_tokens(cls, tokens):
        return cls("".join("/" + _escape(t) for t in tokens))

    def __repr__(self):
        return f"Pointer({self.text!r})"

    def __str__(self):
        return self.text

    @property
    def is_root(self):
        return not self.tokens

    def parent(self):
        if self.is_root:
            raise JsonPointerError("the root has no parent")
        return Pointer.from_tokens(self.tokens[:-1]), self.tokens[-1]

    def is_prefix_of(self, other):
        return other.tokens[:len(self.tokens)] == self.tokens

    def resolve(self, doc):
        node = doc
        for token in self.tokens:
            if isinstance(node, dict):
                if token not in node:
                    raise JsonPointerError(f"{self.text}: no member {token!r}")
                node = node[token]
            elif isinstance(node, list):
                node = node[array_index(token, len(node))]
            else:
                raise JsonPointerError(f"{self.text}: cannot descend into {type(node).__name__}")
        return node


def resolve(doc, pointer, default=JsonPointerError):
    try:
        return Pointer(pointer).resolve(doc)
    except JsonPointerError:
        if default is JsonPointerError:
            raise
        return default
