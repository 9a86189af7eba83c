-- :CodegenFix turns a failing pytest project green, through the preview; :CodegenUndo returns to the start.
local H = require('helpers')

local FIX_CART = H.constant('tests.support.fix_projects', 'FIX_CART')

describe('CodegenFix', function()
  H.per_case()

  it('turns a failing project green, previewing the edit, and undo returns to the start', function()
    local root = H.workspace()
    H.python_project(root)
    local cart_before = H.read(root .. '/shop/cart.py')
    ok(H.pytest(root).code ~= 0, 'the project fails before the fix')
    H.model({
      { when = 'Now fix it', content = FIX_CART },
      { content = 'total() skips the first price.' },
    })
    H.setup()
    local progress = {}
    vim.api.nvim_create_autocmd('LspProgress', { callback = function(ev)
      local value = ev.data and ev.data.params and ev.data.params.value
      if type(value) == 'table' and value.message then
        progress[#progress + 1] = value.message
      end
    end })
    vim.cmd('CodegenFix')

    local _, text = H.wait_preview(60000)
    contains(text, 'diff --git a/shop/cart.py b/shop/cart.py')
    contains(text, '+    return sum(prices)')
    -- Per-iteration progress reaches LspProgress (fidget, statuslines), not a notification per phase.
    ok(vim.iter(progress):any(function(m) return m:find('iteration 1/8', 1, true) ~= nil end),
      table.concat(progress, '\n'))
    eq(nil, H.notifications_text():find('iteration 1/8', 1, true), 'no notification per phase by default')
    H.press('ga')
    local done = H.wait_notify('codegen fix (run ', 60000)
    eq(vim.log.levels.INFO, done.level, done.message)
    contains(H.read(root .. '/shop/cart.py'), '    return sum(prices)\n')
    local after = H.pytest(root)
    eq(0, after.code, after.stdout)
    contains(after.stdout, '3 passed')

    local run_id = done.message:match('run (%S+)%)')
    -- A run folder codegen did not write (as a cloned repository could carry) is never offered.
    H.write(root .. '/.codegen/runs/99991231-235959-ffffff/run.json', '{"id": "99991231-235959-ffffff", "kind": "fix"}')
    eq({ run_id }, vim.fn.getcompletion('CodegenUndo ', 'cmdline'), 'the run is offered for :CodegenUndo')
    vim.cmd('CodegenUndo')
    H.wait_notify('codegen: restored')
    eq(cart_before, H.read(root .. '/shop/cart.py'))
  end)

  it('writes only the hunks accepted in the review: a rejected one stays out after the iteration', function()
    local root = H.workspace()
    H.python_project(root)
    H.write(root .. '/notes.py', 'v1 = 1\nv2 = 2\nv3 = 3\n')
    local notes_too = FIX_CART:gsub('```%s*$', '')
      .. '--- a/notes.py\n+++ b/notes.py\n@@ -1,3 +1,3 @@\n v1 = 1\n-v2 = 2\n+TWO = 2\n v3 = 3\n```\n'
    H.model({
      { when = 'Now fix it', content = notes_too },
      { content = 'total() skips the first price.' },
    })
    H.setup()
    vim.cmd('CodegenFix')
    local _, text = H.wait_preview(60000)
    contains(text, '+TWO = 2')
    H.press('gh') -- the cursor starts on the first hunk: shop/cart.py's fix
    H.press('gx') -- then notes.py's rename, rejected
    local done = H.wait_notify('codegen fix (run ', 60000)
    eq(vim.log.levels.INFO, done.level, done.message)
    contains(H.read(root .. '/shop/cart.py'), '    return sum(prices)\n')
    eq('v1 = 1\nv2 = 2\nv3 = 3\n', H.read(root .. '/notes.py'), 'the rejected hunk was never written')
  end)
end)
