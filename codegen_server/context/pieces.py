"""Pieces of focused context and the packer that fits them into a token budget, most important first.

A piece is one quoted definition (a test, a likely culprit, a caller) or one block of text.
Each has its full text and, optionally, a brief form (a signature line) used when the full
text no longer fits: the packer takes pieces in priority order, so a close culprit's body wins
over a far file's signature, and the total never exceeds the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tokens import count_tokens

#: Tokens a piece's separator and heading add around its text, beyond their own count (seams).
SEAM_SLACK = 2


@dataclass
class Piece:
    """One block of focused context.

    ``section`` groups pieces under one heading when rendered; ``key`` (path, first line)
    deduplicates a definition reached by several routes; ``brief`` is the fallback text.
    """

    section: str
    text: str
    brief: str = ""  # a shorter form (a windowed body, a signature line) for when the text does not fit
    key: tuple[str, int] | None = None
    files: list[str] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)
    #: (path, first line, last line) quoted in full: a piece inside one already chosen adds nothing.
    span: tuple[str, int, int] | None = None


@dataclass
class Packed:
    """The pieces that fit, in priority order, each with the form that was chosen."""

    chosen: list[tuple[Piece, str]]
    tokens: int

    @property
    def files(self) -> list[str]:
        out: list[str] = []
        for piece, _ in self.chosen:
            for path in piece.files:
                if path not in out:
                    out.append(path)
        return out


def pack(pieces: list[Piece], budget: int) -> Packed:
    """The highest-priority pieces whose summed token counts stay within ``budget``.

    A piece whose full text does not fit falls back to its brief form; a piece that fits in
    neither form is skipped and later, smaller pieces may still fit.
    """
    chosen: list[tuple[Piece, str]] = []
    seen: set[tuple[str, int]] = set()
    spans: list[tuple[str, int, int]] = []
    used = 0
    for piece in pieces:
        if piece.key is not None and piece.key in seen:
            continue
        if piece.span is not None and any(
                path == piece.span[0] and first <= piece.span[1] and piece.span[2] <= last for path, first, last in spans):
            continue
        for form in (piece.text, piece.brief):  # the full text first, then the brief form
            if not form:
                continue
            cost = count_tokens(form) + SEAM_SLACK
            if used + cost <= budget:
                chosen.append((piece, form))
                used += cost
                if piece.key is not None:
                    seen.add(piece.key)
                if piece.span is not None and form is piece.text:
                    spans.append(piece.span)
                break
    return Packed(chosen, used)


def render(packed: Packed, section_order: list[str]) -> tuple[str, list[str]]:
    """The chosen pieces under their section headings (in ``section_order``), and the titles used."""
    by_section: dict[str, list[str]] = {}
    for piece, form in packed.chosen:
        by_section.setdefault(piece.section, []).append(form)
    order = section_order + [s for s in by_section if s not in section_order]
    blocks = []
    titles = []
    for section in order:
        forms = by_section.get(section)
        if forms:
            titles.append(section)
            blocks.append(f"## {section}\n" + "\n\n".join(forms))
    return "\n\n".join(blocks), titles
