import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accepted, askRound, stepTitle, type Reply, type Step } from '../../src/clarify';

/** Plays `script` as the user's replies; records each step asked (question and the value it held). */
function user(script: Reply[]) {
  const asked: { question: string; value: string }[] = [];
  return { asked, ask: async (step: Step) => { asked.push({ question: step.question, value: step.value }); return script.shift() as Reply; } };
}

test('clarify: answers, skips, and "skip the rest" leaves the remaining answers blank', async () => {
  const u = user([{ kind: 'answer', text: ' add and divide ' }, { kind: 'skip' }, { kind: 'skipRest' }]);
  const round = await askRound(['q1', 'q2', 'q3', 'q4'], u.ask, async () => true);
  assert.deepEqual(u.asked.map((a) => a.question), ['q1', 'q2', 'q3']);
  assert.deepEqual(round, { answers: ['add and divide', '', '', ''], skipRest: true, cancelled: false });
  assert.deepEqual(accepted('  '), { kind: 'skip' });
  assert.deepEqual(accepted('both'), { kind: 'answer', text: 'both' });
});

test('clarify: Back returns to the previous question showing its answer, and keeps what was typed', async () => {
  const u = user([
    { kind: 'answer', text: 'sqlite' }, { kind: 'back', typed: 'half typed' }, { kind: 'answer', text: 'postgres' },
    { kind: 'answer', text: 'half typed, finished' },
  ]);
  const round = await askRound(['db?', 'cli?'], u.ask, async () => true);
  assert.deepEqual(u.asked, [
    { question: 'db?', value: '' }, { question: 'cli?', value: '' }, { question: 'db?', value: 'sqlite' }, { question: 'cli?', value: 'half typed' },
  ]);
  assert.deepEqual(round, { answers: ['postgres', 'half typed, finished'], skipRest: false, cancelled: false });
  // Back on the first question stays there.
  const first = user([{ kind: 'back', typed: '' }, { kind: 'skip' }]);
  assert.deepEqual((await askRound(['q1'], first.ask, async () => true)).answers, ['']);
  assert.equal(first.asked.length, 2);
});

test('clarify: Escape with answers asks before discarding them; "keep answering" asks the same question again', async () => {
  let confirms = 0;
  const keep = user([{ kind: 'answer', text: 'a1' }, { kind: 'cancel', typed: 'a2 so far' }, { kind: 'answer', text: 'a2' }]);
  const kept = await askRound(['q1', 'q2'], keep.ask, async () => { confirms++; return false; });
  assert.equal(confirms, 1);
  assert.deepEqual(keep.asked.at(-1), { question: 'q2', value: 'a2 so far' });
  assert.deepEqual(kept, { answers: ['a1', 'a2'], skipRest: false, cancelled: false });

  const discard = await askRound(['q1', 'q2'], user([{ kind: 'answer', text: 'a1' }, { kind: 'cancel', typed: '' }]).ask, async () => true);
  assert.deepEqual(discard, { answers: ['', ''], skipRest: false, cancelled: true });
});

test('clarify: Escape with nothing answered or typed stops at once, without asking', async () => {
  let confirms = 0;
  const round = await askRound(['q1', 'q2'], user([{ kind: 'cancel', typed: ' ' }]).ask, async () => { confirms++; return false; });
  assert.equal(confirms, 0);
  assert.equal(round.cancelled, true);
  assert.equal(stepTitle({ question: 'q', index: 1, total: 3, value: '' }, 2), 'Codegen: question 2 of 3 (round 2)');
});
