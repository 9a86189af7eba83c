import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LspWorkspaceEdit } from '../../src/preview';
import { applyConfirmation, fileWarnings, previewTitle, waitingWarning } from '../../src/warnings';

const r = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 0 } });
const WARNING = 'Warning: .vscode/settings.json can run code — editor workspace settings can name programs';
const WHY = 'Warning: editor workspace settings can name programs. Review this change before accepting it.';

/** A daemon edit as it arrives over LSP: a normal file and a flagged one, each with its annotation. */
function edit(flag: { label: string; description?: string }): LspWorkspaceEdit {
  return {
    documentChanges: [
      { textDocument: { uri: 'file:///ws/shop/cart.py', version: null }, edits: [{ range: r(0), newText: 'x\n', annotationId: 'codegen' }] },
      { kind: 'create', uri: 'file:///ws/.vscode/settings.json', annotationId: 'codegen.runsCode.0' },
      { textDocument: { uri: 'file:///ws/.vscode/settings.json', version: null }, edits: [{ range: r(0), newText: '{}\n', annotationId: 'codegen.runsCode.0' }] },
    ],
    changeAnnotations: {
      codegen: { label: 'codegen: fix (f1)', needsConfirmation: true },
      'codegen.runsCode.0': { ...flag, needsConfirmation: true },
    },
  };
}

test("a file whose edits reference a warning annotation is flagged with the daemon's label and description", () => {
  assert.deepEqual(fileWarnings(edit({ label: WARNING, description: WHY })),
    [{ uri: 'file:///ws/.vscode/settings.json', label: WARNING, description: WHY }]);
  // The label alone is enough: the annotation is not the edit's own.
  assert.deepEqual(fileWarnings(edit({ label: WARNING })), [{ uri: 'file:///ws/.vscode/settings.json', label: WARNING }]);
});

test("an edit with only its own annotation flags nothing, explained or not; a file's other annotation flags it", () => {
  const plain: LspWorkspaceEdit = {
    documentChanges: [
      { kind: 'create', uri: 'file:///ws/a.py', annotationId: 'codegen' },
      { textDocument: { uri: 'file:///ws/a.py', version: null }, edits: [{ range: r(0), newText: 'a\n', annotationId: 'codegen' }] },
      { kind: 'delete', uri: 'file:///ws/b.py', annotationId: 'codegen' },
    ],
    changeAnnotations: { codegen: { label: 'codegen: generate (r1)', needsConfirmation: true } },
  };
  assert.deepEqual(fileWarnings(plain), []);
  // The edit's own annotation carries the model's explanation: that is no warning.
  const explained: LspWorkspaceEdit = { ...plain, changeAnnotations: { codegen: {
    label: 'codegen: generate (r1)', description: 'Here is the project. Run `pytest` to check it.', needsConfirmation: true } } };
  assert.deepEqual(fileWarnings(explained), []);
  assert.deepEqual(fileWarnings({ changes: { 'file:///ws/a.py': [{ range: r(0), newText: 'a' }] } }), []);
  const alone: LspWorkspaceEdit = {
    documentChanges: [{ kind: 'rename', oldUri: 'file:///ws/envrc.txt', newUri: 'file:///ws/.envrc', annotationId: 'only' }],
    changeAnnotations: { only: { label: 'codegen: feedback (r2) — .envrc', description: 'direnv runs it in your shell', needsConfirmation: true } },
  };
  assert.deepEqual(fileWarnings(alone), [{ uri: 'file:///ws/.envrc', label: 'codegen: feedback (r2) — .envrc', description: 'direnv runs it in your shell' }]);
});

test('the preview names the flagged file in its title and progress, and the modal quotes the warning', () => {
  const warnings = fileWarnings(edit({ label: WARNING, description: WHY }));
  assert.equal(previewTitle('fix (f1)', warnings, ['file:///ws']), 'Codegen: fix (f1) — ⚠ flagged: .vscode/settings.json');
  assert.equal(previewTitle('fix (f1)', [], ['file:///ws']), 'Codegen: fix (f1)');
  assert.match(waitingWarning(warnings, ['file:///ws']), /^⚠ \.vscode\/settings\.json flagged/);
  assert.equal(waitingWarning([], ['file:///ws']), '');
  const { message, detail } = applyConfirmation(warnings, ['file:///ws']);
  assert.match(message, /writes \.vscode\/settings\.json, which is a file that can make your editor or shell run code/);
  // The daemon's label, then what its description adds (not the reason a second time).
  assert.equal(detail, `${WARNING}\nReview this change before accepting it.`);
  // A label that does not name the file gets the file's name in front.
  assert.equal(applyConfirmation([{ uri: 'file:///ws/.envrc', label: 'runs in your shell', description: 'direnv loads it on cd.' }], ['file:///ws']).detail,
    '.envrc: runs in your shell\ndirenv loads it on cd.');
});
