-- Issue 28: the preview never takes keystrokes meant elsewhere, hunks are reviewed one by one, the
-- daemon restarts after it died, and a typo in setup() is named at setup.
local H = require('helpers')

local LINES = { 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9', 'l10', 'l11', 'l12' }

-- Two changes nine lines apart: two hunks in the preview.
local TWO_HUNKS = [[
--- a/notes.txt
+++ b/notes.txt
@@ -1,3 +1,3 @@
 l1
-l2
+TWO
 l3
@@ -10,3 +10,3 @@
 l10
-l11
+ELEVEN
 l12
]]

local function start_two_hunks(root)
  H.write(root .. '/notes.txt', table.concat(LINES, '\n') .. '\n')
  vim.fn.setreg('d', TWO_HUNKS)
  vim.cmd('CodegenApplyDiff d')
end

describe('the preview', function()
  H.per_case()

  it('opens without taking the cursor from insert mode; typed text stays in the file being edited', function()
    -- A second Neovim, typed into through its real input queue (this one's -l script has no input loop).
    local root = H.workspace()
    H.write(root .. '/draft.py', 'x = 1\n')
    H.write(root .. '/notes.txt', table.concat(LINES, '\n') .. '\n')
    local chan = vim.fn.jobstart({ vim.v.progpath, '--embed', '--headless', '--clean' }, { rpc = true, cwd = root })
    local function lua(code, ...)
      return vim.rpcrequest(chan, 'nvim_exec_lua', code, { ... })
    end
    local ok_run, err = pcall(function()
      lua([[
        local plugin, daemon, diff = ...
        vim.opt.runtimepath:prepend(plugin)
        vim.cmd.runtime('plugin/codegen.lua')
        vim.o.updatetime = 300
        require('codegen').setup({ cmd = { daemon } })
        vim.cmd.edit('draft.py')
        vim.fn.setreg('d', diff)
      ]], H.plugin_dir, H.daemon, TWO_HUNKS)
      local function preview_state()
        return lua([[
          for _, buf in ipairs(vim.api.nvim_list_bufs()) do
            if vim.api.nvim_buf_get_name(buf):find('codegen://preview/', 1, true) then
              return { buf = buf, current = vim.api.nvim_get_current_buf() == buf,
                header = vim.api.nvim_buf_get_lines(buf, 0, 3, false) }
            end
          end
          return vim.NIL
        ]])
      end
      vim.rpcrequest(chan, 'nvim_input', ':CodegenApplyDiff d<CR>Gox = 2')
      H.wait('the preview to open in the other Neovim', function() return preview_state() ~= vim.NIL end, 30000)
      vim.rpcrequest(chan, 'nvim_input', 'yz')
      vim.wait(800) -- longer than 'updatetime': typing in insert mode is never idle
      eq('i', vim.rpcrequest(chan, 'nvim_get_mode').mode, 'still in insert mode')
      local state = preview_state()
      eq(false, state.current, 'the preview did not take the cursor')
      eq({ 'x = 1', 'x = 2yz' }, lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'))
      ok(not table.concat(state.header, '\n'):find('yz', 1, true), 'nothing typed reached the preview')
      -- Back in normal mode and idle for 'updatetime': the preview takes the cursor.
      vim.rpcrequest(chan, 'nvim_input', '<Esc>')
      H.wait('the preview to be entered when idle', function() return preview_state().current end, 5000)
      eq('', lua([[return vim.fn.maparg('a', 'n')]]), 'no single-letter accept')
      eq('', lua([[return vim.fn.maparg('q', 'n')]]), 'no single-letter reject')
      vim.rpcrequest(chan, 'nvim_input', 'gr')
      H.wait('the preview to close', function() return preview_state() == vim.NIL end, 5000)
    end)
    vim.fn.jobstop(chan)
    assert(ok_run, err)
    eq(table.concat(LINES, '\n') .. '\n', H.read(root .. '/notes.txt'), 'nothing was written')
  end)

  it('accepting one hunk writes only that hunk', function()
    local root = H.workspace()
    H.setup()
    start_two_hunks(root)
    local preview, text = H.wait_preview()
    contains(text, '# ga accept all, gr reject all   gh / gx accept / reject this hunk')
    contains(vim.api.nvim_get_current_line(), '@@ -1,5 +1,5 @@', 'the cursor starts on the first hunk')
    H.press('gh')
    local written = vim.deepcopy(LINES)
    written[2] = 'TWO'
    eq(table.concat(written, '\n') .. '\n', H.read(root .. '/notes.txt'), 'the first hunk is written at once')
    ok(vim.api.nvim_buf_is_valid(preview), 'the preview stays open for the other hunk')
    contains(vim.api.nvim_get_current_line(), '@@ -8,5 +8,5 @@', 'the cursor moved to the next hunk')
    H.press('gx')
    H.wait_notify('codegen apply diff: modify notes.txt')
    ok(not vim.api.nvim_buf_is_valid(preview), 'the preview closed once every hunk was decided')
    vim.wait(500)
    eq(table.concat(written, '\n') .. '\n', H.read(root .. '/notes.txt'), 'the rejected hunk was never written')
  end)

  it('names a file rejected whole apart in the outcome, not among the files written', function()
    local root = H.workspace()
    H.setup()
    H.write(root .. '/a.txt', 'one\n')
    H.write(root .. '/b.txt', 'one\n')
    vim.fn.setreg('d', '--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n'
      .. '--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-one\n+two\n')
    vim.cmd('CodegenApplyDiff d')
    H.wait_preview()
    H.press('gh')
    H.press('gx')
    local done = H.wait_notify('codegen apply diff:')
    eq('codegen apply diff: modify a.txt (rejected in the review: b.txt)', done.message)
    eq('one\n', H.read(root .. '/b.txt'))
  end)

  it('offers for :CodegenUndo only the runs that left files changed', function()
    local root = H.workspace()
    H.setup()
    start_two_hunks(root)
    H.wait_preview()
    H.press('gr')
    H.wait_notify('not applied')
    eq({}, vim.fn.getcompletion('CodegenUndo ', 'cmdline'), 'a rejected run wrote nothing: nothing to undo')
    start_two_hunks(root)
    H.wait_preview()
    H.press('ga')
    local done = H.wait_notify('codegen apply diff: modify notes.txt')
    eq(1, #vim.fn.getcompletion('CodegenUndo ', 'cmdline'), done.message)
  end)

  it('opens a vertical split as wide as preview.width', function()
    local root = H.workspace()
    H.setup({ preview = { split = 'vertical', width = 50, height = 7 } })
    start_two_hunks(root)
    local preview = H.wait_preview()
    eq(50, vim.api.nvim_win_get_width(H.preview_window(preview)))
    H.press('gr')
    H.wait_notify('not applied')
  end)
end)

describe('the daemon', function()
  H.per_case()

  it('restarts with :CodegenRestart after it was killed', function()
    local root = H.workspace()
    H.write(root .. '/main.py', 'x = 1\n')
    H.setup()
    local buf = H.open('main.py')
    local first = vim.lsp.get_clients({ name = 'codegen' })[1]
    first.rpc.terminate()
    H.wait('the daemon to be gone', function() return #vim.lsp.get_clients({ name = 'codegen' }) == 0 end, 5000)
    vim.cmd('CodegenRestart')
    H.wait_notify('codegen: daemon started for ' .. root, 30000)
    local again = vim.lsp.get_clients({ name = 'codegen', bufnr = buf })[1]
    ok(again and again.id ~= first.id and again.initialized, 'a new daemon runs and has the file')
    vim.cmd('CodegenLog')
    local log = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
    contains(log, 'exited: code')
    contains(log, 'running: codegen-server')
  end)

  it('starts for files of languages codegen indexes, not for a text file', function()
    local root = H.workspace()
    H.write(root .. '/notes.txt', 'hello\n')
    H.write(root .. '/main.py', 'x = 1\n')
    H.setup()
    vim.cmd.edit('notes.txt')
    vim.wait(500)
    eq(0, #vim.lsp.get_clients({ name = 'codegen' }), 'no daemon for a .txt file')
    local text = vim.api.nvim_get_current_buf()
    H.open('main.py')
    H.wait('the text file to attach once the daemon runs', function()
      vim.cmd.edit('notes.txt')
      return #vim.lsp.get_clients({ name = 'codegen', bufnr = text }) == 1
    end, 5000)
  end)
end)

describe('messages', function()
  H.per_case()

  it('cut a message wider than the command line to fit (no hit-enter prompt); :CodegenLog has it whole', function()
    local recorder = vim.notify
    H.cleanup() -- Neovim's own vim.notify back: the case is what it does with a long message
    ok(debug.getinfo(vim.notify, 'S').source:find('vim/_editor.lua', 1, true), 'the built-in vim.notify')
    vim.cmd('messages clear')
    local long = 'codegen fix (run 20261205-081239-7c736b): Stopped after 1 iteration: all tests pass. '
      .. string.rep('Failing tests: 1 at the start, 0 now (1 fixed). ', 4) .. 'THE END'
    ok(#long > vim.v.echospace, 'the message is wider than the command line')
    require('codegen.notify').notify(long, vim.log.levels.INFO)
    io.stdout:write('\n') -- headless, the echo went to stdout: keep the runner's lines whole
    local shown = vim.trim(vim.fn.execute('messages'))
    ok(vim.fn.strdisplaywidth(shown) < vim.v.echospace, 'what the command line got fits on it: ' .. shown)
    contains(shown, 'codegen fix (run 20261205-081239-7c736b): Stopped a')
    contains(shown, '… (:CodegenLog)')
    vim.cmd('CodegenLog')
    contains(table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'), long)
    -- A vim.notify taken over by a UI plugin gets the whole text.
    vim.notify = recorder
    require('codegen.notify').notify(long, vim.log.levels.WARN)
    eq(long, H.notifications[#H.notifications].message)
  end)
end)

describe('setup()', function()
  H.per_case()

  it('names a bad option value at setup and keeps the default', function()
    H.setup({ preview = { split = 'botrigth', heigth = 5 }, notify_progress = 'yes' })
    eq(1, #H.notifications, H.notifications_text())
    local warning = H.notifications[1]
    eq(vim.log.levels.WARN, warning.level)
    contains(warning.message, 'preview.split = "botrigth" is not one of')
    contains(warning.message, 'unknown option preview.heigth')
    contains(warning.message, 'notify_progress = "yes" is not true or false')
    eq('botright', require('codegen.config').values.preview.split)
    eq(false, require('codegen.config').values.notify_progress)
  end)

  it(':Codegen runs a subcommand and completes the subcommands', function()
    H.workspace()
    H.setup()
    local subs = vim.fn.getcompletion('Codegen re', 'cmdline')
    eq({ 'reply', 'restart' }, subs)
    vim.cmd('Codegen cancel')
    H.wait_notify('nothing is running', 1000)
    ok(vim.fn.maparg('<Plug>(codegen-fix)', 'n') ~= '' or vim.fn.hasmapto('<Plug>(codegen-fix)') == 0,
      'the <Plug> map exists')
    eq(1, #vim.api.nvim_get_keymap('n') > 0 and #vim.tbl_filter(function(m)
      return m.lhs == '<Plug>(codegen-fix)'
    end, vim.api.nvim_get_keymap('n')) or 0)
  end)
end)
