"""Reading one reply mail (RFC 5322 bytes) into what it says, without ever raising.

`read_message` finds the reply key, classifies the mail (delivery report, bounce, auto-reply,
forward or reply), trims quoted text (mail-parser-reply in en/fr/de/es, plus `>` lines) and
reads the decision from the first line with the words of `WORDS`. Anything it cannot read is a
reply without a decision and a `reason`; whether the sender may answer is for the caller.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from mailparser_reply import EmailMessage as Thread

from accord.inbound.dsn import DeliveryReport, is_delivery_report, read_report
from accord.inbound.headers import (
    addresses,
    decoded,
    first,
    first_message_id,
    message_ids,
    single_address,
    values,
)

REPLY, REPORT, BOUNCE, AUTO_REPLY, FORWARD = "reply", "report", "bounce", "auto_reply", "forward"
LANGUAGES = ("en", "fr", "de", "es")
MAX_TEXT = 100_000
MAX_REFERENCES = 50
KEY_FIELDS = ("To", "Delivered-To", "X-Original-To")

WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("endorse", "approve", "yes", "agree", "oui", "j'approuve", "approuve", "d'accord"),
        "endorse",
    ),
    **dict.fromkeys(("decline", "no", "non", "refuse"), "decline"),
    **dict.fromkeys(("abstain", "abstention"), "abstain"),
    **dict.fromkeys(("support",), "support"),
    **dict.fromkeys(("concerns", "concern"), "concerns"),
}
_LEANING = {"endorse": 1, "support": 1, "decline": -1, "concerns": -1, "abstain": 0}
PRONOUNS = frozenset({"i", "we", "je", "nous"})
GREETINGS = frozenset(
    {"hi", "hello", "hey", "dear", "greetings"}
    | {"bonjour", "bonsoir", "cher", "chère", "chers", "chères", "madame", "monsieur"}
    | {"hallo", "liebe", "lieber", "sehr", "guten"}
    | {"hola", "estimado", "estimada", "estimados", "buenos", "buenas"}
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

_OUT_OF_OFFICE = re.compile(
    r"^\s*auto\s*:|out of (?:the )?office|automatic reply|auto[- ]?reply|auto[- ]?response"
    r"|réponse automatique|absente? du bureau|absence du bureau|message d'absence"
    r"|abwesenheitsnotiz|automatische antwort|nicht im büro"
    r"|respuesta automática|fuera de (?:la )?oficina",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:ed|able)|delivery status notification|delivery (?:has )?failed"
    r"|mail delivery (?:failed|failure)|returned mail|non remis|unzustellbar"
    r"|no se puede entregar",
    re.IGNORECASE,
)
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_FORWARD_SUBJECT = re.compile(r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|tr|wg|rv)\s*:", re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^-{2,}\s*(?:forwarded message|message transféré|weitergeleitete nachricht"
    r"|mensaje reenviado)\s*-{2,}$"
    r"|^(?:begin forwarded message|début du message réexpédié"
    r"|anfang der weitergeleiteten nachricht|inicio del mensaje reenviado)\s*:",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(
    r"^(?:on|le|am|el)\s.{0,300}?(?:wrote|a écrit|schrieb|escribió)\b[^\n]{0,200}:\s*$",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # no database stores NUL


@dataclass(frozen=True)
class Inbound:
    """What one mail says. `decision` is None unless a reply's first line holds one."""

    message_key: str
    message_id: str | None = None
    sender: str | None = None
    subject: str = ""
    reply_key: str | None = None
    references: tuple[str, ...] = ()
    kind: str = REPLY
    decision: str | None = None
    comment: str | None = None
    reason: str | None = None
    report: DeliveryReport | None = None


def read_message(raw: bytes, *, reply_pattern: str) -> Inbound:
    """Read one mail; hostile or broken input gives a reply without a decision, never an error."""
    fallback = Inbound(message_key=raw_key(raw), reason="the message could not be read")
    try:
        msg = message_from_bytes(raw, policy=policy.default)
        return _read(msg, fallback, key_pattern(reply_pattern))
    except Exception as exc:  # the boundary of untrusted input: nothing may escape
        return replace(fallback, reason=f"the message could not be read ({type(exc).__name__})")


def raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def key_pattern(reply_pattern: str) -> re.Pattern[str] | None:
    """A regex matching the reply addresses of `reply_pattern`; None if it has no `{key}`."""
    prefix, found, suffix = reply_pattern.lower().partition("{key}")
    if not found:
        return None
    return re.compile(re.escape(prefix) + r"([0-9a-f]{32})" + re.escape(suffix))


def _read(msg: EmailMessage, base: Inbound, pattern: re.Pattern[str] | None) -> Inbound:
    message_id = first_message_id(first(msg, "Message-ID"))
    froms = values(msg, "From")
    subject = decoded(first(msg, "Subject"))
    inbound = replace(
        base,
        message_key=message_id or base.message_key,
        message_id=message_id,
        sender=single_address(froms[0]) if len(froms) == 1 else None,
        subject=subject,
        reply_key=find_reply_key(msg, pattern),
        references=_references(msg),
        reason=None,
    )
    if is_delivery_report(msg):
        return replace(inbound, kind=REPORT, report=read_report(msg))
    automatic = automatic_reason(msg, inbound.sender, subject)
    if automatic:
        return replace(inbound, kind=automatic[0], reason=automatic[1])
    text = body_text(msg)
    if is_forward(subject, text):
        return replace(inbound, kind=FORWARD, reason="a forwarded message is not an answer")
    read = read_decision(latest_reply(text))
    if read is None:
        return replace(inbound, reason="no answer word on the first line of the reply")
    return replace(inbound, decision=read[0], comment=read[1])


def find_reply_key(msg: Message, pattern: re.Pattern[str] | None) -> str | None:
    """The key of the first reply address in To, Delivered-To or X-Original-To."""
    if pattern is None:
        return None
    for field in KEY_FIELDS:
        for value in values(msg, field):
            for address in addresses(value):
                match = pattern.fullmatch(address)
                if match:
                    return match.group(1)
    return None


def _references(msg: Message) -> tuple[str, ...]:
    """Message-IDs this mail answers, nearest first: In-Reply-To, then References newest first."""
    found: list[str] = []
    for value in values(msg, "In-Reply-To"):
        found.extend(message_ids(value))
    for value in values(msg, "References"):
        found.extend(reversed(message_ids(value)))
    return tuple(dict.fromkeys(found))[:MAX_REFERENCES]


def automatic_reason(msg: Message, sender: str | None, subject: str) -> tuple[str, str] | None:
    """(BOUNCE or AUTO_REPLY, why) for mail no person wrote; None for everything else."""
    local = (sender or "").partition("@")[0]
    if local in ("mailer-daemon", "postmaster"):
        return BOUNCE, f"sent by {local}"
    if _BOUNCE_SUBJECT.search(subject):
        return BOUNCE, "a delivery failure notice"
    auto_submitted = first(msg, "Auto-Submitted").partition(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return AUTO_REPLY, f"Auto-Submitted: {auto_submitted[:40]}"
    if values(msg, "X-Autoreply") or values(msg, "X-Autorespond"):
        return AUTO_REPLY, "marked as an automatic reply"
    precedence = first(msg, "Precedence").strip().lower()
    if precedence in _PRECEDENCE:
        return AUTO_REPLY, f"Precedence: {precedence}"
    if first(msg, "Return-Path").strip() == "<>":
        return AUTO_REPLY, "sent with an empty return path"
    if _OUT_OF_OFFICE.search(subject):
        return AUTO_REPLY, "an out-of-office subject"
    return None


def is_forward(subject: str, text: str) -> bool:
    """A forward: its subject says so, or an unquoted line marks a forwarded message."""
    if _FORWARD_SUBJECT.match(subject):
        return True
    lines = (line.strip() for line in text.splitlines())
    return any(_FORWARD_MARKER.match(line) for line in lines if not line.startswith(">"))


def body_text(msg: EmailMessage) -> str:
    """The text part, or the HTML part as text when there is no text part."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _content(part)
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def _content(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:  # unknown charset, broken transfer encoding: decode what is there
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def latest_reply(text: str) -> str:
    """The newest reply in a mail body: quoted text, attributions and signatures removed.

    Works for top-posting (the reply comes before the quote) and bottom-posting (after it):
    the first fragment that still has unquoted lines is the reply.
    """
    text = text[:MAX_TEXT].replace("\r\n", "\n").replace("\xa0", " ").translate(_INVISIBLE)
    text = _CONTROL.sub("", text)
    thread = Thread(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    for reply in thread.replies:
        body = _unquoted(reply.body)
        if body:
            return body
    return ""


def _unquoted(text: str) -> str:
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    body = "\n".join(kept)
    attribution = _ATTRIBUTION.search(body)
    if attribution:  # one mail-parser-reply missed: cut there, or drop it if the reply follows
        before = body[: attribution.start()].strip()
        body = before or body[attribution.end() :]
    return re.sub(r"\n{3,}", "\n\n", body).strip()


def read_decision(text: str) -> tuple[str, str | None] | None:
    """(decision, the rest) from the first line, or None when it holds no single answer.

    The answer word must open the line (after a greeting and "I", "we", "je", "nous"), and the
    line must not also lean the other way ("no problem, I endorse" is not read; "yes, we
    support it" is).
    """
    lines = text.strip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    first_line, rest = _skip_greeting(lines)
    words = list(_WORD.finditer(first_line.replace("’", "'").casefold()))
    if words and words[0].group() in PRONOUNS:
        words = words[1:]
    if not words or words[0].group() not in WORDS:
        return None
    decision = WORDS[words[0].group()]
    leanings = {_LEANING[WORDS[w.group()]] for w in words if w.group() in WORDS}
    if len(leanings) > 1:
        return None
    remainder = first_line[words[0].end() :].lstrip(" \t.,;:!-–—").strip()
    comment = "\n".join([remainder, *rest]).strip()
    return decision, comment or None


def _skip_greeting(lines: list[str]) -> tuple[str, list[str]]:
    """Drop an opening greeting ("Dear Anna," / "Bonjour,"), keeping what follows it."""
    line, rest = lines[0].strip(), lines[1:]
    opening = _WORD.match(line.casefold())
    if opening is None or opening.group() not in GREETINGS:
        return line, rest
    after = re.split(r"[,!]", line, maxsplit=1)
    remainder = after[1].strip() if len(after) > 1 else ""
    if remainder:
        return remainder, rest
    while rest and not rest[0].strip():
        rest = rest[1:]
    return (rest[0].strip(), rest[1:]) if rest else ("", [])


class _HtmlText(HTMLParser):
    """HTML to text; quoted blocks (blockquote, Gmail and Thunderbird quotes) become `>` lines.

    Open elements are a stack with running counts of quoting and skipped ones, and an end tag
    only closes one of the last `REACH` open elements, so hostile nesting stays linear.
    """

    SKIP = frozenset({"script", "style", "head", "title", "template"})
    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
    BLOCK = frozenset(
        {"p", "div", "br", "hr", "tr", "li", "ul", "ol", "dl", "dt", "dd", "table", "pre"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
        | {"blockquote"}
    )
    QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote")
    REACH = 64

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._line_quoted = False
        self._open: list[tuple[str, bool, bool]] = []
        self._quoting = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self._break()
        if tag in self.VOID:
            return
        classes = " ".join(v or "" for k, v in attrs if k == "class")
        quote = tag == "blockquote" or any(c in classes for c in self.QUOTE_CLASSES)
        skip = tag in self.SKIP
        self._open.append((tag, quote, skip))
        self._quoting += quote
        self._skipping += skip

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(1, min(len(self._open), self.REACH) + 1):
            if self._open[-depth][0] == tag:
                self._close(depth)
                break
        if tag in self.BLOCK:
            self._break()

    def _close(self, count: int) -> None:
        for _ in range(count):
            _tag, quote, skip = self._open.pop()
            self._quoting -= quote
            self._skipping -= skip

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        self._line.append(re.sub(r"\s+", " ", data))
        self._line_quoted = self._line_quoted or self._quoting > 0

    def _break(self) -> None:
        text = "".join(self._line).strip()
        self.lines.append(f"> {text}" if self._line_quoted and text else text)
        self._line, self._line_quoted = [], False

    def text(self) -> str:
        self._break()
        return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip()


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html[: MAX_TEXT * 4])
    parser.close()
    return parser.text()
