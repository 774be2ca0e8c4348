"""What a member may answer: the decisions of each mode, the comment's limit, the political
decline. Pure rules, light to import (the CLI's help shows them)."""

from __future__ import annotations

ENDORSE, DECLINE, ABSTAIN = "endorse", "decline", "abstain"
SUPPORT, CONCERNS = "support", "concerns"
DECISIONS = {"endorse": (ENDORSE, DECLINE, ABSTAIN), "consult": (SUPPORT, CONCERNS, ABSTAIN)}
# Every decision of any mode, each once, in the order the modes list them.
ALL_DECISIONS = tuple(dict.fromkeys(d for decisions in DECISIONS.values() for d in decisions))
COMMENT_LIMIT = 5000  # characters of a member's comment, as the reply page's form allows
POLITICAL_REASON = "political"  # a decline whose comment starts with it flags the round


def clean_comment(comment: str | None) -> str | None:
    """A member's free text as kept: printable characters, newlines and tabs (a browser sends a
    textarea's line breaks as CR LF and counts each as one character), stripped."""
    kept = "".join(ch for ch in (comment or "") if ch.isprintable() or ch in "\n\t")
    return kept.strip() or None


def comment_problem(comment: str | None) -> str | None:
    """Why a (cleaned) comment cannot be recorded, or None."""
    if comment is not None and len(comment) > COMMENT_LIMIT:
        return (
            f"the comment is {len(comment):,} characters long; "
            f"the limit is {COMMENT_LIMIT:,} characters"
        )
    return None


def is_political_decline(decision: str, comment: str | None) -> bool:
    """A decline whose reason starts with "political" (any case) flags the round as political."""
    return bool(decision == DECLINE and comment and comment.lower().startswith(POLITICAL_REASON))
