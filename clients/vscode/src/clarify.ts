/**
 * The clarifying questions, asked one after another: each can be answered, skipped, or the rest
 * skipped ("make reasonable assumptions"). No `vscode` import: the extension supplies `ask`.
 */

/** What the user did with one question. */
export type Reply = { kind: 'answer'; text: string } | { kind: 'skip' } | { kind: 'skipRest' } | { kind: 'cancel' };

export interface RoundResult {
  /** Aligned with the questions; a skipped question is ''. */
  answers: string[];
  /** The user chose "skip the rest": generate now, without further rounds. */
  skipRest: boolean;
  /** The user pressed Escape: stop the whole generate. */
  cancelled: boolean;
}

/** Asks each question of one round through `ask(question, index, total)`. */
export async function askRound(
  questions: string[],
  ask: (question: string, index: number, total: number) => Promise<Reply>,
): Promise<RoundResult> {
  const answers: string[] = [];
  for (let i = 0; i < questions.length; i++) {
    const reply = await ask(questions[i], i, questions.length);
    if (reply.kind === 'cancel') return { answers, skipRest: false, cancelled: true };
    if (reply.kind === 'skipRest') {
      while (answers.length < questions.length) answers.push('');
      return { answers, skipRest: true, cancelled: false };
    }
    answers.push(reply.kind === 'answer' ? reply.text.trim() : '');
  }
  return { answers, skipRest: false, cancelled: false };
}

/** The quick input's items for what the user has typed so far (the typed answer first). */
export interface ChoiceItem { label: string; reply: Reply; description?: string }

export const SKIP_LABEL = 'Skip this question';
export const SKIP_REST_LABEL = 'Skip the rest — make reasonable assumptions';

export function choices(typed: string): ChoiceItem[] {
  const items: ChoiceItem[] = [];
  if (typed.trim() !== '') items.push({ label: typed, reply: { kind: 'answer', text: typed }, description: 'answer' });
  items.push({ label: SKIP_LABEL, reply: { kind: 'skip' } });
  items.push({ label: SKIP_REST_LABEL, reply: { kind: 'skipRest' } });
  return items;
}
