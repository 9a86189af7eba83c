"""A file's text as lines plus the line-ending facts we must give back unchanged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TextLines:
    """``lines`` hold contents without endings; ``eols`` the ending each line had ("" for a last
    line without one). New lines get the file's dominant ending."""

    lines: list[str]
    eols: list[str]
    final_newline: bool
    eol: str

    @classmethod
    def from_text(cls, text: str) -> "TextLines":
        raw = text.splitlines(keepends=True)
        # str.splitlines also splits on \x0b, \x1c, \u2028 ...; only \n, \r\n and \r end a line in a file.
        lines: list[str] = []
        eols: list[str] = []
        buf = ""
        for piece in raw:
            buf += piece
            for ending in ("\r\n", "\n", "\r"):
                if buf.endswith(ending):
                    lines.append(buf[: -len(ending)])
                    eols.append(ending)
                    buf = ""
                    break
        if buf:
            lines.append(buf)
            eols.append("")
        crlf = sum(1 for e in eols if e == "\r\n")
        lf = sum(1 for e in eols if e == "\n")
        eol = "\r\n" if crlf > lf else "\n"
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
