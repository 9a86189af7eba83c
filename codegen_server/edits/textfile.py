"""A file's text as lines plus the line-ending facts we must give back unchanged."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EOL = re.compile(r"(\r\n|\n|\r)")


@dataclass
class TextLines:
    """``lines`` hold contents without endings; ``eols`` the ending each line had ("" for a last
    line without one). New lines get the file's dominant ending."""

    lines: list[str]
    eols: list[str]
    final_newline: bool
    eol: str

    @classmethod
    def from_text(cls, text: str, default_eol: str = "\n") -> "TextLines":
        """``default_eol`` is used when the text has no line ending to copy."""
        # Only \n, \r\n and \r end a line in a file (str.splitlines also splits on \x0c, \u2028, ...).
        parts = _EOL.split(text)
        lines, eols = parts[0::2], parts[1::2]
        if lines and lines[-1] == "":
            lines.pop()  # the text ended with a line ending
        else:
            eols.append("")
        # The dominant ending of the three (a CR-only file stays CR-only); ties go to \n, then \r\n.
        counts = {e: eols.count(e) for e in ("\n", "\r\n", "\r")}
        eol = max(counts, key=lambda e: counts[e]) if any(counts.values()) else default_eol
        return cls(lines, eols, not text or text.endswith(("\n", "\r")), eol)

    def render(self) -> str:
        """Join lines back, honouring each kept line's ending and the final-newline state."""
        out: list[str] = []
        last = len(self.lines) - 1
        for n, (line, ending) in enumerate(zip(self.lines, self.eols)):
            if n == last:
                ending = (ending or self.eol) if self.final_newline else ""
            else:
                ending = ending or self.eol
            out.append(line + ending)
        return "".join(out)
