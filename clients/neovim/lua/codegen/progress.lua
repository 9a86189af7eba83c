--- The daemon's `$/progress` as a statusline string (and, with `notify_progress`, phase notifications).
---
--- Listens to Neovim's `LspProgress` event instead of replacing the `$/progress` handler, so progress
--- plugins such as fidget.nvim keep working next to it.
local config = require('codegen.config')

local M = {}

--- Active progress by token: {title, message, percentage, phase}.
--- @type table<string|integer, {title: string, message: string, percentage: integer|nil, phase: string}>
M.active = {}

--- The phase of a report: its message without the streamed-token count, which changes many times a second.
local function phase_of(message)
  return (message or ''):gsub('%s*—%s*%d+ tokens streamed$', '')
end

local function on_progress(ev)
  local data = ev.data or {}
  local client = vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= 'codegen' or type(data.params) ~= 'table' then
    return
  end
  local token, value = data.params.token, data.params.value
  if type(value) ~= 'table' then
    return
  end
  if value.kind == 'end' then
    M.active[token] = nil
  else
    local entry = M.active[token] or { title = value.title or 'codegen', message = '', phase = '' }
    entry.title = value.title or entry.title
    entry.message = value.message or entry.message
    entry.percentage = value.percentage or entry.percentage
    local phase = phase_of(entry.message)
    if config.values.notify_progress and phase ~= '' and phase ~= entry.phase and phase ~= 'starting' then
      vim.notify(('%s: %s'):format(entry.title, phase), vim.log.levels.INFO, { title = 'codegen' })
    end
    entry.phase = phase
    M.active[token] = entry
  end
  vim.cmd.redrawstatus()
end

--- Install the LspProgress listener (once).
function M.setup()
  local group = vim.api.nvim_create_augroup('codegen.progress', { clear = true })
  vim.api.nvim_create_autocmd('LspProgress', { group = group, callback = on_progress })
end

--- A short statusline text: what codegen is doing now, or "" when idle.
--- @return string
function M.status()
  if require('codegen.preview').is_open() then
    -- The model is done; the change waits for the user.
    return 'codegen: review the change (:CodegenPreview)'
  end
  for _, entry in pairs(M.active) do
    local text = entry.title
    if entry.message ~= '' then
      text = text .. ': ' .. entry.message
    end
    if entry.percentage then
      text = ('%s (%d%%)'):format(text, entry.percentage)
    end
    return text
  end
  for _, command in pairs(require('codegen.client').running) do
    return 'codegen: ' .. command.title .. '…'
  end
  return ''
end

return M
