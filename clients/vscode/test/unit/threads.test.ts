import assert from 'node:assert/strict';
import { test } from 'node:test';
import { askRound, choices, SKIP_REST_LABEL, type Reply } from '../../src/clarify';
import { fixMessage } from '../../src/fixreport';
import type { FeedbackResult, FixResult } from '../../src/protocol';
import { failedOutcome, markerSummary, newThread, outcomeOf } from '../../src/threads';

const base: FeedbackResult = { runId: 'r1', explanation: '', files: [], diff: '', applied: false, apply: 'client', reason: '', failures: [] };

test('an applied feedback: the explanation, the files, and the run kept for a reply', () => {
  const outcome = outcomeOf(newThread(), { ...base, explanation: 'Guarded the empty list.', changed: true, applied: true, files: [{ path: 'calc/ops.py', action: 'modify' }] });
  assert.deepEqual(outcome.state, { runId: 'r1', status: 'applied' });
  assert.match(outcome.reply, /Guarded the empty list\./);
  assert.match(outcome.reply, /Applied to `calc\/ops\.py`/);
  assert.equal(outcome.label, 'Codegen: applied');
});

test('a question back: nothing edited, the thread waits for a reply on the same run', () => {
  const outcome = outcomeOf({ runId: 'r0', status: 'applied' }, { ...base, runId: 'r2', question: 'Should zero raise or return None?', changed: false });
  assert.equal(outcome.state.status, 'question');
  assert.equal(outcome.state.runId, 'r2');
  assert.match(outcome.reply, /\*\*Question:\*\* Should zero raise or return None\?/);
});

test('no change needed, declined, and failed hunks each say so', () => {
  assert.equal(outcomeOf(newThread(), { ...base, changed: false, explanation: 'It already does that.' }).state.status, 'no-change');
  const declined = outcomeOf(newThread(), { ...base, changed: true, files: [{ path: 'a.py', action: 'modify' }], reason: 'discarded in the preview' });
  assert.equal(declined.state.status, 'declined');
  assert.match(declined.reply, /Not applied: discarded in the preview\./);
  const failed = outcomeOf(newThread(), { ...base, changed: true, files: [{ path: 'a.py', action: 'modify' }], reason: 'hunks failed', failures: [{ path: 'a.py', message: 'hunk 2 not found' }] });
  assert.equal(failed.state.status, 'failed');
  assert.match(failed.reply, /- `a\.py`: hunk 2 not found/);
});

test('proposed memory is passed on for the user to confirm; an error keeps the run', () => {
  const outcome = outcomeOf(newThread(), { ...base, changed: true, applied: true, files: [{ path: 'a.py', action: 'modify' }], proposedMemory: ['Use type hints', ' '] });
  assert.deepEqual(outcome.proposedMemory, ['Use type hints']);
  const failed = failedOutcome({ runId: 'r5', status: 'running' }, 'boom');
  assert.deepEqual(failed.state, { runId: 'r5', status: 'error' });
});

test('marker summary names what was acted on and what remains', () => {
  const marker = (path: string, line: number) => ({ path, line, uri: `file:///ws/${path}`, range: { start: { line, character: 0 }, end: { line, character: 5 } }, text: 'x', scope: '' });
  const text = markerSummary({ ...base, applied: true, changed: true, files: [{ path: 'a.py', action: 'modify' }], markers: { acted: [marker('a.py', 3)], remaining: [marker('b.py', 9)] } });
  assert.equal(text, 'Codegen: applied 1 codegen: comment (a.py:3). Remaining: b.py:9.');
});

test('clarify: answers, skips, and "skip the rest" fills the remaining answers with blanks', async () => {
  const script: Reply[] = [{ kind: 'answer', text: ' add and divide ' }, { kind: 'skip' }, { kind: 'skipRest' }];
  const asked: string[] = [];
  const round = await askRound(['q1', 'q2', 'q3', 'q4'], async (q) => { asked.push(q); return script.shift() as Reply; });
  assert.deepEqual(asked, ['q1', 'q2', 'q3']);
  assert.deepEqual(round, { answers: ['add and divide', '', '', ''], skipRest: true, cancelled: false });
  const cancelled = await askRound(['q1'], async () => ({ kind: 'cancel' }));
  assert.equal(cancelled.cancelled, true);
  assert.deepEqual(choices('').map((c) => c.label), ['Skip this question', SKIP_REST_LABEL]);
  assert.deepEqual(choices('both').map((c) => c.reply.kind), ['answer', 'skip', 'skipRest']);
});

test('fix report: green with the count, or the daemon summary of why it stopped', () => {
  const result: FixResult = { runId: 'f1', green: true, stopped: 'green', iterations: [{}], failingAtStart: 1, failingAtEnd: 0, testsFixed: 1, tokensUsed: 10, restoredTo: null, summary: '' };
  assert.deepEqual(fixMessage(result), { ok: true, message: 'Codegen: the tests pass — fixed 1 failing test in 1 iteration.' });
  const stopped = fixMessage({ ...result, green: false, stopped: 'no-progress', failingAtEnd: 1, testsFixed: 0, summary: 'Stopped after 2 iterations: the model made no progress.' });
  assert.deepEqual(stopped, { ok: false, message: 'Codegen: Stopped after 2 iterations: the model made no progress.' });
});
