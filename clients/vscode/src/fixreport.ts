/**
 * The final message of a fix run. No `vscode` import.
 */
import type { FixResult } from './protocol';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Green, or why it stopped (the daemon's summary says why and what was restored). */
export function fixMessage(result: FixResult): { ok: boolean; message: string } {
  const iterations = Array.isArray(result.iterations) ? result.iterations.length : 0;
  if (result.green) {
    const fixed = result.failingAtStart > 0
      ? `fixed ${plural(result.testsFixed || result.failingAtStart, 'failing test')} in ${plural(iterations, 'iteration')}`
      : 'nothing was failing';
    return { ok: true, message: `Codegen: the tests pass — ${fixed}.` };
  }
  const summary = (result.summary ?? '').trim();
  return {
    ok: false,
    message: `Codegen: ${summary !== '' ? summary : `stopped (${result.stopped}) with ${plural(result.failingAtEnd, 'test')} failing.`}`,
  };
}
