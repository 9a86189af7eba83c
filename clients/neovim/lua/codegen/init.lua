--- codegen for Neovim: a thin client of the codegen-server daemon (see :help codegen).
local M = {}

local did_setup = false

--- Configure the plugin (optional: commands work with the defaults). See :help codegen-setup.
--- @param opts table|nil
function M.setup(opts)
  local config = require('codegen.config')
  local problems = config.set(opts)
  if #problems > 0 then
    -- One message, at setup: a typo is named here rather than surfacing later inside a command.
    vim.notify('codegen setup(): ' .. table.concat(problems, '; '), vim.log.levels.WARN, { title = 'codegen' })
  end
  require('codegen.progress').setup()
  require('codegen.docs').ensure_helptags()
  local client = require('codegen.client')
  local group = vim.api.nvim_create_augroup('codegen.attach', { clear = true })
  -- The daemon starts for files of the languages codegen indexes (about 65 MB idle: not for a stray
  -- .txt), or with the first command; once it runs, every file under its root attaches.
  local filetypes = client.autostart_filetypes()
  if #filetypes > 0 then
    vim.api.nvim_create_autocmd('FileType', {
      group = group,
      pattern = filetypes,
      callback = function(ev)
        client.attach(ev.buf, true)
      end,
    })
  end
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
    group = group,
    callback = function(ev)
      client.attach(ev.buf, false)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      client.attach(buf, vim.tbl_contains(filetypes, vim.bo[buf].filetype))
    end
  end
  if did_setup then
    require('codegen.client').push_settings()
  end
  did_setup = true
end

--- Set up with the defaults when a command runs before setup() was called.
function M.ensure_setup()
  if not did_setup then
    M.setup({})
  end
end

--- What codegen is doing now, for the statusline; "" when idle.
--- @return string
function M.status()
  if not did_setup then
    return ''
  end
  return require('codegen.progress').status()
end

--- :CodegenGenerate [prompt]
--- @param prompt string|nil
function M.generate(prompt)
  M.ensure_setup()
  require('codegen.commands.generate')(prompt)
end

--- :[range]CodegenFeedback[!] [text]
--- @param opts {line1: integer, line2: integer, text: string|nil, markers: boolean|nil}
function M.feedback(opts)
  M.ensure_setup()
  local feedback = require('codegen.commands.feedback')
  if opts.markers then
    feedback.markers()
  else
    feedback.range(opts)
  end
end

--- :CodegenReply [text]
--- @param text string|nil
function M.reply(text)
  M.ensure_setup()
  require('codegen.commands.feedback').reply(text)
end

--- :CodegenFix
function M.fix()
  M.ensure_setup()
  require('codegen.commands.fix')()
end

--- :CodegenUndo [run]
--- @param run_id string|nil
function M.undo(run_id)
  M.ensure_setup()
  require('codegen.commands.undo').run(run_id)
end

--- :CodegenApplyDiff [x]
--- @param register string|nil
function M.apply_diff(register)
  M.ensure_setup()
  require('codegen.commands.apply_diff')(register)
end

--- :CodegenCancel — cancel the running commands and reject an open preview.
function M.cancel()
  local requests = require('codegen.client').cancel_all()
  local previews = require('codegen.preview').reject_all()
  if requests + previews == 0 then
    vim.notify('codegen: nothing is running', vim.log.levels.INFO, { title = 'codegen' })
  end
end

--- :CodegenPreview — move the cursor into the open preview (it never takes it by itself while you type).
function M.preview()
  if not require('codegen.preview').enter() then
    vim.notify('codegen: no preview is open', vim.log.levels.INFO, { title = 'codegen' })
  end
end

--- :CodegenRestart — stop the daemons (e.g. after fixing the environment: they read it at start) and
--- start the one of the current workspace again.
function M.restart()
  M.ensure_setup()
  local client = require('codegen.client')
  local stopped = client.stop_all()
  require('codegen.async').run(function()
    local root = client.current_root()
    local daemon, err = client.ensure(root)
    if daemon then
      vim.notify(('codegen: daemon %s for %s'):format(stopped > 0 and 'restarted' or 'started', root),
        vim.log.levels.INFO, { title = 'codegen' })
    else
      vim.notify('codegen: ' .. err, vim.log.levels.ERROR, { title = 'codegen' })
    end
  end)
end

--- :CodegenLog — the daemon's stderr (its log) and exits, in a scratch buffer.
function M.log()
  require('codegen.log').open()
end

return M
