-- :CodegenCancel stops a streaming generate at once; nothing is written.
local H = require('helpers')

local CALC_PROJECT = H.constant('tests.support.answers', 'CALC_PROJECT')

describe('CodegenCancel', function()
  H.per_case()

  it('stops a streaming generate and writes nothing', function()
    local root = H.workspace()
    -- About a minute of streaming if nobody stops it.
    H.model({ { content = CALC_PROJECT, chunk_size = 2, chunk_delay = 0.05 } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator library')
    H.wait('tokens to stream', function()
      return require('codegen').status():find('tokens streamed', 1, true) ~= nil
    end, 30000)
    contains(require('codegen').status(), 'codegen: generate project')

    vim.cmd('CodegenCancel')
    -- The answer streams for about a minute: an answer within the wait means the cancel stopped it.
    local cancelled = H.wait_notify('cancelled', 3000)
    eq(vim.log.levels.WARN, cancelled.level)
    contains(cancelled.message, 'nothing was written')
    H.wait('the statusline to clear', function() return require('codegen').status() == '' end, 2000)

    local run_json
    H.wait('the run to be marked cancelled', function()
      for name in vim.fs.dir(root .. '/.codegen/runs') do
        run_json = vim.json.decode(H.read(root .. '/.codegen/runs/' .. name .. '/run.json') or '{}')
      end
      return run_json and run_json.status == 'cancelled'
    end, 3000)
    vim.wait(500)
    eq({}, H.files(root))
    eq({}, H.preview_buffers(), 'no preview was opened')
  end)

  it('cancels a command that has not reported progress yet', function()
    local root = H.workspace()
    H.write(root .. '/notes.py', 'x = 1\n')
    H.model({ { content = CALC_PROJECT, delay = 1 } })
    H.setup({ clarify = false })
    H.open('notes.py')
    -- Same tick: the request is sent, the daemon has not begun its progress yet.
    vim.cmd('CodegenGenerate a calculator library')
    vim.cmd('CodegenCancel')
    local cancelled = H.wait_notify('was cancelled', 1000)
    eq(vim.log.levels.WARN, cancelled.level)
    eq('', require('codegen').status())
    -- The model answers after 1 s: a daemon that kept going would offer its edit by then.
    vim.wait(2500)
    eq({}, H.preview_buffers(), 'no preview was opened')
    eq({ 'notes.py' }, H.files(root))
  end)

  it('ends a command with one ERROR when the daemon dies under it', function()
    local root = H.workspace()
    H.model({ { content = CALC_PROJECT, chunk_size = 2, chunk_delay = 0.05 } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator library')
    H.wait('tokens to stream', function()
      return require('codegen').status():find('tokens streamed', 1, true) ~= nil
    end, 30000)
    vim.lsp.get_clients({ name = 'codegen' })[1].rpc.terminate()
    local failed = H.wait_notify('the daemon exited', 5000)
    eq(vim.log.levels.ERROR, failed.level)
    H.wait('the statusline to clear', function() return require('codegen').status() == '' end, 2000)
    eq({}, H.files(root))
  end)

  it('closes the preview when the daemon dies while it is open; nothing is written', function()
    local root = H.workspace()
    H.model({ { content = CALC_PROJECT } })
    H.setup({ clarify = false })
    vim.cmd('CodegenGenerate a calculator library')
    local preview = H.wait_preview()
    vim.lsp.get_clients({ name = 'codegen' })[1].rpc.terminate()
    H.wait_notify('the daemon exited', 5000)
    -- Accepting a preview whose command is gone would write with nobody to record or undo it.
    if vim.api.nvim_get_current_buf() == preview then
      H.press('ga')
    end
    H.wait('the preview to close', function() return not vim.api.nvim_buf_is_valid(preview) end, 2000)
    vim.wait(500)
    eq({}, H.files(root))
  end)

  it('says so when nothing is running', function()
    H.workspace()
    vim.cmd('CodegenCancel')
    H.wait_notify('nothing is running', 1000)
  end)
end)
