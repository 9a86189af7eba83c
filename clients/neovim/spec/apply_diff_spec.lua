-- :CodegenApplyDiff sends a diff from a register or the current buffer through the daemon.
local H = require('helpers')

local DIFF = [[
--- a/notes.txt
+++ b/notes.txt
@@ -1,2 +1,2 @@
 one
-two
+zwei
]]

describe('CodegenApplyDiff', function()
  H.per_case()

  it('applies the diff in a register after the preview', function()
    local root = H.workspace()
    H.write(root .. '/notes.txt', 'one\ntwo\n')
    H.setup()
    vim.fn.setreg('d', DIFF)
    vim.cmd('CodegenApplyDiff d')
    local _, text = H.wait_preview()
    contains(text, '-two\n+zwei')
    H.press('ga')
    H.wait_notify('codegen apply diff: modify notes.txt')
    eq('one\nzwei\n', H.read(root .. '/notes.txt'))
  end)

  it('applies the current buffer, and reports a diff that does not fit precisely', function()
    local root = H.workspace()
    H.write(root .. '/notes.txt', 'one\nthree\n')
    H.write(root .. '/change.patch', DIFF)
    H.setup()
    vim.cmd.edit('change.patch')
    vim.cmd('CodegenApplyDiff')
    local failed = H.wait_notify('not applied')
    eq(vim.log.levels.WARN, failed.level)
    contains(failed.message, 'notes.txt hunk 1: context and removed lines not found')
    eq('one\nthree\n', H.read(root .. '/notes.txt'))
  end)
end)
