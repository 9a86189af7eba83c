-- :CodegenFeedback on a visual range and :CodegenFeedback! on marker comments, against the real daemon.
local H = require('helpers')

local STATS = [[
def mean(values):
    return sum(values) / len(values)


def spread(values):
    return max(values) - min(values)
]]

local EMPTY_LIST = [[
`mean` divides by zero on an empty list; return 0.0 for it instead.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,2 +1,4 @@
 def mean(values):
+    if not values:
+        return 0.0
     return sum(values) / len(values)
```
]]

-- The reply edits the code as it is after the first change.
local RETURN_NONE = [[
Return None instead of 0.0 for an empty list.

```diff
--- a/stats.py
+++ b/stats.py
@@ -1,4 +1,4 @@
 def mean(values):
     if not values:
-        return 0.0
+        return None
     return sum(values) / len(values)
```
]]

local LOADER = [[
import os


def load(path):
    # codegen: return an empty list when the file is missing
    with open(path) as handle:
        return handle.read().splitlines()
]]

local LOADER_ANSWER = [[
Done.

```diff
--- a/loader.py
+++ b/loader.py
@@ -4,4 +4,6 @@
 def load(path):
     # codegen: return an empty list when the file is missing
+    if not os.path.exists(path):
+        return []
     with open(path) as handle:
         return handle.read().splitlines()
```

DONE: 1
]]

describe('CodegenFeedback', function()
  H.per_case()

  it('on a visual range edits the buffer and saves it', function()
    local root = H.workspace()
    H.write(root .. '/stats.py', STATS)
    local model = H.model({ { content = EMPTY_LIST } })
    H.setup()
    local buf = H.open('stats.py')
    -- As typed: select two lines, then ":" puts '<,'> before the command.
    H.press('ggVj:CodegenFeedback mean() should handle an empty list<CR>')

    local _, text = H.wait_preview()
    contains(text, '+    if not values:')
    eq(STATS, H.buffer_text(buf), 'the buffer is unchanged while the preview is open')
    H.press('ga')
    local done = H.wait_notify('codegen feedback:')
    contains(done.message, 'modify stats.py')
    H.wait_notify('`mean` divides by zero on an empty list')

    local edited = H.buffer_text(buf)
    contains(edited, '    if not values:\n        return 0.0\n')
    ok(not vim.bo[buf].modified, 'the buffer was saved')
    eq(edited, H.read(root .. '/stats.py'))
    -- The edit is one undo step in the buffer.
    vim.api.nvim_buf_call(buf, function() vim.cmd('silent undo') end)
    eq(STATS, H.buffer_text(buf))

    local sent = H.request_text(model.requests()[1])
    contains(sent, 'mean() should handle an empty list')
    contains(sent, 'stats.py, lines 1-2')
  end)

  it('asks the model\'s question back and replies in the same thread', function()
    local root = H.workspace()
    H.write(root .. '/stats.py', STATS)
    local model = H.model({
      { content = 'QUESTION: Should mean() of an empty list return 0.0 or raise an error?' },
      { content = EMPTY_LIST },
    })
    H.setup()
    H.open('stats.py')
    H.answer_inputs({ 'handle an empty list', 'return 0.0' })
    vim.cmd('1,2CodegenFeedback')

    H.wait_preview()
    contains(H.prompts[1], 'lines 1-2')
    contains(H.prompts[2], 'Should mean() of an empty list return 0.0 or raise an error?')
    H.press('ga')
    H.wait_notify('codegen feedback:')
    contains(H.read(root .. '/stats.py'), 'return 0.0')
    local requests = model.requests()
    eq(2, #requests)
    local reply = requests[2].messages
    contains(reply[#reply].content, 'return 0.0')
    contains(H.request_text(requests[2]), 'handle an empty list') -- the earlier turn of the thread
  end)

  it(':CodegenReply continues the thread on the lines the first change grew to', function()
    local root = H.workspace()
    H.write(root .. '/stats.py', STATS)
    local model = H.model({ { content = EMPTY_LIST }, { content = RETURN_NONE } })
    H.setup()
    H.open('stats.py')
    vim.cmd('1,2CodegenFeedback handle an empty list')
    H.wait_preview()
    H.press('ga')
    H.wait_notify('codegen feedback:')
    local before = #H.notifications
    vim.cmd('CodegenReply return None rather than 0.0')
    H.wait_preview()
    H.press('ga')
    H.wait('the reply to be applied', function()
      for i = before + 1, #H.notifications do
        if H.notifications[i].message:find('codegen feedback: modify stats.py', 1, true) then
          return true
        end
      end
      return false
    end)
    contains(H.read(root .. '/stats.py'), '    if not values:\n        return None\n')
    local messages = model.requests()[2].messages
    eq({ 'system', 'user', 'assistant', 'user' }, vim.tbl_map(function(m) return m.role end, messages))
    contains(messages[2].content, 'handle an empty list')
    contains(messages[4].content, 'return None rather than 0.0')
    contains(messages[4].content, 'stats.py, lines 1-4') -- the thread's lines, grown by the first change
  end)

  it(':CodegenReply without a thread says how to start one', function()
    local root = H.workspace()
    H.write(root .. '/stats.py', STATS)
    H.setup()
    vim.cmd.edit('stats.py')
    vim.cmd('CodegenReply more please')
    eq(vim.log.levels.ERROR, H.wait_notify('no feedback thread in this buffer').level)
  end)

  it('offers a proposed preference and remembers it when the user agrees', function()
    local root = H.workspace()
    H.write(root .. '/stats.py', STATS)
    H.model({ { content = "I'll keep that in mind.\nREMEMBER: use pathlib, not os.path\n\n"
      .. 'NO CHANGE: nothing to edit.' } })
    H.setup()
    H.open('stats.py')
    H.answer_selects({ 'Remember' })
    vim.cmd('1CodegenFeedback we prefer pathlib')
    H.wait_notify('codegen: no change needed')
    H.wait_notify('codegen remembers: use pathlib, not os.path')
    contains(H.select_prompts[1], 'use pathlib, not os.path')
    contains(H.read(root .. '/.codegen/memory.md'), '- use pathlib, not os.path')
    eq(STATS, H.read(root .. '/stats.py'))
  end)

  it('with feedback.verify runs the tests that cover the change and reports them', function()
    local root = H.workspace()
    H.python_project(root)
    H.model({ { content = H.constant('tests.support.fix_projects', 'FIX_CART') } })
    H.setup({ feedback = { verify = true } })
    H.open('shop/cart.py')
    vim.cmd('1,3CodegenFeedback total() skips the first price')
    local _, text = H.wait_preview()
    -- The model's explanation is at the top of the preview, before the user decides.
    local header = text:sub(1, (text:find('diff --git', 1, true) or #text) - 1)
    contains(header, 'The bug is in `total`: it skips the first price.')
    H.press('ga')
    -- One notice for the finished run, the tests' result in it.
    local tests = H.wait_notify('tests after the change:', 60000)
    eq(1, #H.notifications, H.notifications_text())
    eq(vim.log.levels.INFO, tests.level, tests.message)
    local passed = tonumber(tests.message:match('(%d+) passed, 0 failed'))
    ok(passed and passed > 0, tests.message)
  end)

  it('! acts on the codegen: marker comments of the workspace', function()
    local root = H.workspace()
    H.write(root .. '/loader.py', LOADER)
    local model = H.model({ { content = LOADER_ANSWER } })
    H.setup()
    vim.cmd('CodegenFeedback!')
    local _, text = H.wait_preview()
    contains(text, 'diff --git a/loader.py b/loader.py')
    H.press('ga')
    H.wait_notify('codegen feedback:')
    local loader = H.read(root .. '/loader.py')
    contains(loader, 'if not os.path.exists(path):')
    ok(not loader:find('# codegen:', 1, true), 'the marker acted on is removed')
    contains(H.request_text(model.requests()[1]), 'loader.py, line 5 (in load): return an empty list when the file')
  end)

  it('! puts the markers left, with the model\'s NOT DONE reason, in the quickfix list', function()
    local root = H.workspace()
    H.write(root .. '/loader.py', LOADER)
    H.write(root .. '/util.py', '# codegen: rewrite this module in Rust\nx = 1\n')
    H.model({ { content = LOADER_ANSWER .. 'NOT DONE: 2 — a rewrite in another language is out of scope\n' } })
    H.setup()
    vim.cmd('CodegenFeedback!')
    H.wait_preview()
    H.press('ga')
    H.wait_notify('codegen: 1 marker comment was not acted on (see :copen)', 60000)
    local items = vim.fn.getqflist()
    eq(1, #items, vim.inspect(items))
    eq(root .. '/util.py', vim.api.nvim_buf_get_name(items[1].bufnr))
    eq(1, items[1].lnum)
    contains(items[1].text, 'not done: a rewrite in another language is out of scope')
  end)
end)
