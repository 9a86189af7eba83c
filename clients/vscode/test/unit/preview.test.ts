import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTextEdits, changePicks, discardResult, rebaseEdits, selectChanges, displayPath, explanationPage, fileChanges, isFixIteration, lineCounts, staleDocuments, summary, type LspWorkspaceEdit } from '../../src/preview';

const r = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });

test('text edits apply back to front, with \\r\\n lines, inserts at the end, and UTF-16 characters', () => {
  assert.equal(applyTextEdits('a\nb\nc\n', [{ range: r(0, 0, 1, 0), newText: 'A\n' }, { range: r(2, 0, 3, 0), newText: 'C\nD\n' }]), 'A\nb\nC\nD\n');
  assert.equal(applyTextEdits('x\r\ny\r\n', [{ range: r(1, 0, 2, 0), newText: 'Y\r\n' }]), 'x\r\nY\r\n');
  assert.equal(applyTextEdits('', [{ range: r(0, 0, 0, 0), newText: 'new\n' }]), 'new\n');
  assert.equal(applyTextEdits('é😀z\n', [{ range: r(0, 3, 0, 4), newText: 'Z' }]), 'é😀Z\n');
  // A character past the end of a line stays on that line.
  assert.equal(applyTextEdits('ab\ncd\n', [{ range: r(0, 99, 0, 99), newText: '!' }]), 'ab!\ncd\n');
});

test('the daemon edit as files: a created file, an edited buffer', async () => {
  const edit: LspWorkspaceEdit = {
    documentChanges: [
      { kind: 'create', uri: 'file:///ws/calc/ops.py' },
      { textDocument: { uri: 'file:///ws/calc/ops.py', version: null }, edits: [{ range: r(0, 0, 0, 0), newText: 'def add(a, b):\n    return a + b\n' }] },
      { textDocument: { uri: 'file:///ws/main.py', version: 4 }, edits: [{ range: r(1, 0, 2, 0), newText: 'print(add(1, 2))\n' }] },
    ],
    changeAnnotations: { codegen: { label: 'codegen: generate (r1)', needsConfirmation: true } },
  };
  const texts: Record<string, string> = { 'file:///ws/main.py': 'from calc.ops import add\nprint(1)\n' };
  const files = await fileChanges(edit, async (uri) => texts[uri]);
  assert.deepEqual(files.map((f) => [f.uri, f.action, f.after, f.added, f.removed]), [
    ['file:///ws/calc/ops.py', 'create', 'def add(a, b):\n    return a + b\n', 2, 0],
    ['file:///ws/main.py', 'edit', 'from calc.ops import add\nprint(add(1, 2))\n', 1, 1],
  ]);
  assert.equal(summary(files), '1 new file, 1 changed');
  assert.equal(summary([]), 'no change');
  assert.equal(displayPath(files[0].uri, ['file:///other', 'file:///ws']), 'calc/ops.py');
});

test('an edit computed against an older buffer version is stale', () => {
  const edit: LspWorkspaceEdit = { documentChanges: [
    { textDocument: { uri: 'file:///ws/a.py', version: 3 }, edits: [] },
    { textDocument: { uri: 'file:///ws/b.py', version: null }, edits: [] },
    { textDocument: { uri: 'file:///ws/c.py', version: 7 }, edits: [] },
  ] };
  const open: Record<string, number> = { 'file:///ws/a.py': 4, 'file:///ws/b.py': 1, 'file:///ws/c.py': 7 };
  assert.deepEqual(staleDocuments(edit, (uri) => open[uri]), ['file:///ws/a.py']);
});

test('line counts count changed lines only', () => {
  assert.deepEqual(lineCounts('a\nb\nc\n', 'a\nB\nc\nd\n'), { added: 2, removed: 1 });
  assert.deepEqual(lineCounts('', ''), { added: 0, removed: 0 });
});

test('the explanation page: the own annotation\'s description under the label; none without one', () => {
  const edit = { documentChanges: [], changeAnnotations: {
    codegen: { label: 'codegen: feedback', description: '  `mean` divides by zero on [].  ' },
    'codegen.runsCode.0': { label: 'Warning', description: 'Warning: runs code.' } } };
  assert.equal(explanationPage(edit, 'feedback'), '# Why: feedback\n\n`mean` divides by zero on [].\n');
  assert.equal(explanationPage({ changeAnnotations: { codegen: { label: 'x' } } }, 'x'), undefined);
  assert.equal(explanationPage({}, 'x'), undefined);
});

test('Discard in a fix iteration may skip only that change; any other edit is declined', () => {
  assert.equal(isFixIteration('fix, iteration 2'), true);
  assert.equal(isFixIteration('feedback on stats.py:1-2'), false);
  assert.deepEqual(discardResult(true), { applied: false, failureReason: 'codegen:skip' });
  assert.deepEqual(discardResult(false), { applied: false, failureReason: 'discarded in the preview' });
});

test('the picks: a new file whole, each hunk of an edited file; a selection keeps only what was picked', async () => {
  const edit: LspWorkspaceEdit = {
    documentChanges: [
      { kind: 'create', uri: 'file:///ws/calc/ops.py' },
      { textDocument: { uri: 'file:///ws/calc/ops.py', version: null }, edits: [{ range: r(0, 0, 0, 0), newText: 'def add(a, b):\n    return a + b\n' }] },
      { textDocument: { uri: 'file:///ws/main.py', version: 4 }, edits: [
        { range: r(1, 0, 2, 0), newText: 'print(add(1, 2))\n' },
        { range: r(3, 0, 3, 0), newText: '\nprint("done")\n' },
      ] },
    ],
    changeAnnotations: { codegen: { label: 'codegen: generate', needsConfirmation: true } },
  };
  const picks = changePicks(edit, ['file:///ws']);
  assert.deepEqual(picks.map((p) => [p.key, p.label, p.description]), [
    ['file:file:///ws/calc/ops.py', 'calc/ops.py', 'new file, 2 lines'],
    ['2:0', 'main.py: line 2', '+1 −1'],
    ['2:1', 'main.py: after line 3', '+2 −0'],
  ]);
  assert.equal(picks[1].detail, 'print(add(1, 2))');

  const texts: Record<string, string> = { 'file:///ws/main.py': 'from calc.ops import add\nprint(1)\nx = 1\n' };
  const onlySecond = selectChanges(edit, new Set(['2:1']));
  assert.deepEqual(onlySecond.documentChanges, [{ textDocument: { uri: 'file:///ws/main.py', version: 4 }, edits: [{ range: r(3, 0, 3, 0), newText: '\nprint("done")\n' }] }]);
  const files = await fileChanges(onlySecond, async (uri) => texts[uri]);
  assert.deepEqual(files.map((f) => f.after), ['from calc.ops import add\nprint(1)\nx = 1\n\nprint("done")\n']);
  // The new file comes with its content, or not at all.
  const onlyNew = selectChanges(edit, new Set(['file:file:///ws/calc/ops.py']));
  assert.equal(onlyNew.documentChanges?.length, 2);
  assert.deepEqual(selectChanges(edit, new Set()).documentChanges, []);
});

test('typing during the review: hunks away from it move with it; a hunk it touches or borders refuses', () => {
  const base = 'a\nb\nc\nd\ne\nf\n';
  const change = [{ range: r(1, 0, 2, 0), newText: 'B\n' }, { range: r(4, 0, 5, 0), newText: 'E\n' }];
  const applied = (text: string, edits = change) => {
    const moved = rebaseEdits(base, text, edits);
    return moved === undefined ? undefined : applyTextEdits(text, moved);
  };
  assert.equal(applied(base), 'a\nB\nc\nd\nE\nf\n');
  // Two lines typed at the top, a line typed at the end, a line deleted between the hunks (d stays away).
  assert.equal(applied('new\nnew\n' + base), 'new\nnew\na\nB\nc\nd\nE\nf\n');
  assert.equal(applied(base + 'g'), 'a\nB\nc\nd\nE\nf\ng');
  assert.equal(applied('a\nb\nc\nd\ne\nf\nmore\n'), 'a\nB\nc\nd\nE\nf\nmore\n');
  assert.equal(applied('a\nb\nc\nd\ne\nf\n'.replace('f\n', 'f!\n'), [change[0]]), 'a\nB\nc\nd\ne\nf!\n');
  // Typing in a hunk's lines, or right beside one, refuses: the change no longer applies cleanly.
  assert.equal(applied('a\nbb\nc\nd\ne\nf\n'), undefined);
  assert.equal(applied('a\nb\nC\nd\ne\nf\n'), undefined);
  // A hunk at the end of a text without a final newline moves to the end of the new text.
  const noNewline = 'x\ny';
  const moved = rebaseEdits(noNewline, 'top\nx\ny', [{ range: r(1, 0, 1, 1), newText: 'Y' }]);
  assert.deepEqual(moved, [{ range: r(2, 0, 2, 1), newText: 'Y' }]);
  // An edit that is not whole lines is never moved.
  assert.equal(rebaseEdits('ab\ncd\n', 'zz\nab\ncd\n', [{ range: r(1, 1, 1, 2), newText: 'D' }]), undefined);
});
