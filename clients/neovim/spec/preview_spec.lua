-- The preview shows exactly what accepting does: its text edits follow LSP (UTF-16 positions, edits
-- at one position in order), and accepting (Neovim's own apply_workspace_edit, then the write)
-- leaves each file holding that text.
local H = require('helpers')
local preview = require('codegen.preview')

local function pos(line, character)
  return { line = line, character = character }
end

local function edit(l1, c1, l2, c2, text)
  return { range = { start = pos(l1, c1), ['end'] = pos(l2, c2) }, newText = text }
end

local CASES = {
  { 'insert into an empty file', '', { edit(0, 0, 0, 0, 'a\nb\n') }, 'a\nb\n' },
  { 'replace a middle line', 'one\ntwo\nthree\n', { edit(1, 0, 2, 0, 'zwei\n') }, 'one\nzwei\nthree\n' },
  { 'after non-ASCII, in UTF-16 units', 'café 😀 = 1\nx\n', { edit(0, 8, 0, 9, ':=') }, 'café 😀 := 1\nx\n' },
  { 'two inserts at one position keep their order', 'ab\n', { edit(0, 1, 0, 1, 'X'), edit(0, 1, 0, 1, 'Y') },
    'aXYb\n' },
  { 'edits in any order', 'l1\nl2\nl3\nl4\n', { edit(3, 0, 3, 2, 'L4'), edit(0, 0, 0, 2, 'L1') },
    'L1\nl2\nl3\nL4\n' },
  { 'append lines at the end', 'a\nb\n', { edit(2, 0, 2, 0, 'c\nd\n') }, 'a\nb\nc\nd\n' },
  { 'delete the last lines', 'a\nb\nc\n', { edit(1, 0, 3, 0, '') }, 'a\n' },
  { 'a file without a final newline', 'a\nb', { edit(1, 0, 1, 1, 'B') }, 'a\nB' },
}

describe('preview', function()
  after_each(function()
    vim.cmd('silent! %bwipeout!')
  end)

  for _, case in ipairs(CASES) do
    local name, text, edits, expected = case[1], case[2], case[3], case[4]
    it(name .. ': shown and applied alike', function()
      eq(expected, preview.apply_text_edits(text, edits, 'utf-16'), 'the preview')
      local fname = vim.fn.tempname()
      H.write(fname, text)
      local result = preview.apply({ documentChanges = {
        { textDocument = { uri = vim.uri_from_fname(fname), version = vim.NIL }, edits = vim.deepcopy(edits) },
      } }, 'utf-16')
      eq({ applied = true }, result)
      eq(expected, H.read(fname), 'the file after accepting')
      local buf = vim.fn.bufnr(fname)
      ok(not vim.bo[buf].modified, 'the buffer was written')
      vim.api.nvim_buf_call(buf, function() vim.cmd('silent undo | silent write') end)
      eq(text, H.read(fname), 'one undo step restores the file')
    end)
  end

  it('renders one section per file, new files against /dev/null', function()
    local root = vim.fn.tempname()
    H.write(root .. '/old.txt', 'keep\nold\n')
    local uri = function(name) return vim.uri_from_fname(root .. '/' .. name) end
    local files = preview.file_changes({
      documentChanges = {
        { kind = 'create', uri = uri('new.txt') },
        { textDocument = { uri = uri('new.txt'), version = vim.NIL }, edits = { edit(0, 0, 0, 0, 'hello\n') } },
        { textDocument = { uri = uri('old.txt'), version = vim.NIL }, edits = { edit(1, 0, 2, 0, 'new\n') } },
      },
    }, 'utf-16')
    local lines = preview.render(files, root, 'codegen: test')
    local text = table.concat(lines, '\n')
    eq('# codegen: test', lines[1])
    contains(text, 'diff --git a/new.txt b/new.txt\nnew file\n--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello')
    contains(text, 'diff --git a/old.txt b/old.txt\n--- a/old.txt\n+++ b/old.txt\n@@ -1,2 +1,2 @@\n keep\n-old\n+new')
  end)

  it('refuses an edit for a buffer typed into after the daemon computed it', function()
    local root = H.workspace()
    H.write(root .. '/a.txt', 'a\n')
    H.setup()
    local buf = H.open('a.txt')
    local version = vim.lsp.util.buf_versions[buf]
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'typed' })
    local result = preview.apply({ documentChanges = {
      { textDocument = { uri = vim.uri_from_bufnr(buf), version = version }, edits = { edit(0, 0, 1, 0, 'b\n') } },
    } }, 'utf-16')
    eq(false, result.applied)
    contains(result.failureReason, 'changed after the change was computed')
    eq({ 'typed' }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
    H.cleanup()
  end)

  it('names a file that can run code in its header, and accepting it asks once more', function()
    local annotated = { changeAnnotations = {
      codegen = { label = 'codegen: generate', needsConfirmation = true },
      ['codegen.runsCode.0'] = { label = 'Warning: .vscode/tasks.json can run code — editor tasks run commands',
        description = 'Warning: editor tasks run commands. Review this change before accepting it.',
        needsConfirmation = true },
    } }
    local warnings = preview.warnings(annotated)
    eq({ 'Warning: .vscode/tasks.json can run code — editor tasks run commands' }, warnings)
    local lines = preview.render({}, nil, 'codegen: generate', warnings)
    eq('# codegen: generate', lines[1])
    eq('# ⚠ Warning: .vscode/tasks.json can run code — editor tasks run commands', lines[2])
    eq({}, preview.warnings({ changeAnnotations = { codegen = annotated.changeAnnotations.codegen } }))

    local decided, asked = nil, {}
    local answer = 2
    local real_confirm = vim.fn.confirm
    vim.fn.confirm = function(question)
      asked[#asked + 1] = question
      return answer
    end
    local ok_run, err = pcall(function()
      local buf = preview.open(lines, {}, function(verdict) decided = verdict end, nil, warnings)
      ok(preview.enter(), 'entered')
      H.press('ga')
      eq(nil, decided, 'declining the second question keeps the preview open, nothing decided')
      ok(vim.api.nvim_buf_is_valid(buf), 'the preview is still there')
      contains(asked[1], '.vscode/tasks.json can run code')
      answer = 1
      H.press('ga')
      eq({ all = true }, decided, 'confirming applies')
    end)
    vim.fn.confirm = real_confirm
    assert(ok_run, err)
  end)
end)
