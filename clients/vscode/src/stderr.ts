/**
 * The daemon's stderr as the output channel shows it: whole lines, Python tracebacks folded to their
 * last line (the exception) unless the trace is verbose, and the last lines kept for the message of a
 * daemon that exits. No `vscode` import.
 */

const TRACEBACK = 'Traceback (most recent call last):';
/** The lines between chained tracebacks, part of the traceback shown folded. */
const CHAINED = [/^During handling of the above exception/, /^The above exception was the direct cause/];

export const TRACEBACK_HIDDEN = '(traceback hidden; set codegen.trace.server to "verbose" to see it)';

export class StderrLog {
  private partial = '';
  private inTraceback = false;
  /** Just past a traceback's exception: a chained traceback may follow, folded into the same notice. */
  private afterException = false;
  private readonly last: string[] = [];

  /** `write` gets each line to show; `verbose()` says whether tracebacks are shown whole. */
  constructor(private readonly write: (line: string) => void, private readonly verbose: () => boolean, private readonly keep = 20) {}

  /** A chunk of stderr as it arrives (lines may be split across chunks). */
  append(chunk: string): void {
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The end of the stream: a last line without a newline is shown too. */
  flush(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
  }

  /** The last `count` lines worth showing (tracebacks folded, blank lines left out), oldest first. */
  tail(count = 3): string[] {
    return this.last.slice(-count);
  }

  private line(text: string): void {
    const folded = this.fold(text);
    if (this.verbose()) this.write(text);
    else if (folded !== undefined) this.write(folded);
    if (folded !== undefined && folded !== TRACEBACK_HIDDEN && folded.trim() !== '') {
      this.last.push(folded);
      if (this.last.length > this.keep) this.last.shift();
    }
  }

  /** The line as shown folded: undefined for a traceback's frames, the notice for its first line. */
  private fold(text: string): string | undefined {
    if (text.startsWith(TRACEBACK)) {
      const first = !this.inTraceback && !this.afterException;
      this.inTraceback = true;
      return first ? TRACEBACK_HIDDEN : undefined;
    }
    const between = text.trim() === '' || CHAINED.some((re) => re.test(text));
    if (this.afterException) {
      if (between) return undefined;
      this.afterException = false;
    }
    if (!this.inTraceback) return text;
    if (between || /^\s/.test(text)) return undefined;
    this.inTraceback = false;
    this.afterException = true;
    return text; // the exception itself: what went wrong, in one line
  }
}

/** How a daemon process ended, as a person reads it: its exit code or signal, and the last stderr lines. */
export function describeExit(code: number | null, signal: string | null, tail: string[]): string {
  const how = code !== null ? `exit code ${code}` : signal ? `signal ${signal}` : 'no exit code';
  return tail.length > 0 ? `${how}: ${tail.join(' | ')}` : how;
}
