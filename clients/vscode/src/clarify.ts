/**
 * The clarifying questions as a multi-step input: each can be answered, skipped, the rest skipped
 * ("make reasonable assumptions"), or gone Back to; Escape keeps the answers given so far and asks
 * whether to discard them. No `vscode` import: the extension supplies `ask` and `confirmDiscard`.
 */

/**
 * What the user did with one question. `back` returns to the previous one; `cancel` (Escape) carries
 * what was typed in the box, so that "keep answering" shows it again.
 */
export type Reply =
  | { kind: 'answer'; text: string }
  | { kind: 'skip' }
  | { kind: 'skipRest' }
  | { kind: 'back'; typed: string }
  | { kind: 'cancel'; typed: string };

export interface RoundResult {
  /** Aligned with the questions; a skipped question is ''. */
  answers: string[];
  /** The user chose "skip the rest": generate now, without further rounds. */
  skipRest: boolean;
  /** The user pressed Escape and chose to discard the answers: stop the whole generate. */
  cancelled: boolean;
}

/** One step of the input: the question, where it is in the round, and the answer it holds so far. */
export interface Step { question: string; index: number; total: number; value: string }

/**
 * Asks the questions of one round through `ask`, one step at a time. An Escape with nothing answered
 * or typed stops at once; otherwise `confirmDiscard()` decides (false: the same question again, its
 * typed text kept).
 */
export async function askRound(
  questions: string[],
  ask: (step: Step) => Promise<Reply>,
  confirmDiscard: () => Promise<boolean>,
): Promise<RoundResult> {
  const answers = questions.map(() => '');
  let i = 0;
  while (i < questions.length) {
    const reply = await ask({ question: questions[i], index: i, total: questions.length, value: answers[i] });
    switch (reply.kind) {
      case 'answer':
        answers[i++] = reply.text.trim();
        break;
      case 'skip':
        answers[i++] = '';
        break;
      case 'skipRest':
        return { answers, skipRest: true, cancelled: false };
      case 'back':
        answers[i] = reply.typed.trim();
        i = Math.max(0, i - 1);
        break;
      case 'cancel':
        answers[i] = reply.typed.trim();
        if (answers.every((a) => a === '') || (await confirmDiscard())) return { answers: questions.map(() => ''), skipRest: false, cancelled: true };
        break;
    }
  }
  return { answers, skipRest: false, cancelled: false };
}

/** The reply for the text accepted with Enter: an answer, or a skip when nothing was typed. */
export function accepted(typed: string): Reply {
  return typed.trim() === '' ? { kind: 'skip' } : { kind: 'answer', text: typed };
}

/** The input's title: where the user is, so the question itself has the whole prompt line. */
export function stepTitle(step: Step, round: number): string {
  return `Codegen: question ${step.index + 1} of ${step.total}${round > 1 ? ` (round ${round})` : ''}`;
}

export const ANSWER_HINT = 'Your answer — Enter with nothing typed skips this question';
export const SKIP_REST_TOOLTIP = 'Skip the rest — make reasonable assumptions';
export const DISCARD_QUESTION = 'Discard your answers?';
export const DISCARD_BUTTON = 'Discard my answers';
export const KEEP_BUTTON = 'Keep answering';
