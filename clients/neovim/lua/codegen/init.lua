--- codegen for Neovim: a thin client of the codegen-server daemon (see :help codegen).
local M = {}

local did_setup = false

--- Configure the plugin (optional: commands work with the defaults). See :help codegen-setup.
--- @param opts table|nil
function M.setup(opts)
  local config = require('codegen.config')
  for _, problem in ipairs(config.set(opts)) do
    vim.notify('codegen: ' .. problem, vim.log.levels.WARN, { title = 'codegen' })
  end
  require('codegen.progress').setup()
  local group = vim.api.nvim_create_augroup('codegen.attach', { clear = true })
  if config.values.autostart then
    vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
      group = group,
      callback = function(ev)
        require('codegen.client').attach(ev.buf)
      end,
    })
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) then
        require('codegen.client').attach(buf)
      end
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

return M
