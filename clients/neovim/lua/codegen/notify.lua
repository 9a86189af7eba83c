--- One message to the user that never stops them with a hit-enter prompt.
---
--- Neovim's own vim.notify echoes a message wider than the command line and then waits for Enter; a
--- run's outcome ("codegen fix (run …): Stopped after 1 iteration: …") is often that wide. When
--- vim.notify is Neovim's own, the command line (and :messages) gets as much as fits and :CodegenLog the
--- whole text; a vim.notify replaced by a UI plugin (nvim-notify, fidget, noice) gets the message whole.
local M = {}

--- This session's messages, whole, oldest first (the last 100), for :CodegenLog.
--- @type string[]
M.messages = {}

--- Whether vim.notify is still Neovim's built-in one (defined in vim/_editor.lua).
--- @return boolean
local function builtin()
  local info = debug.getinfo(vim.notify, 'S')
  return info ~= nil and info.source:find('vim/_editor.lua', 1, true) ~= nil
end

local HIGHLIGHT = { [vim.log.levels.ERROR] = 'ErrorMsg', [vim.log.levels.WARN] = 'WarningMsg' }
local POINTER = '… (:CodegenLog)'

--- Show ``message`` at ``level`` (INFO when nil).
--- @param message string
--- @param level integer|nil vim.log.levels
function M.notify(message, level)
  level = level or vim.log.levels.INFO
  M.messages[#M.messages + 1] = os.date('%H:%M:%S ') .. message
  if #M.messages > 100 then
    table.remove(M.messages, 1)
  end
  local room = vim.v.echospace - 1
  if not builtin() or (not message:find('\n', 1, true) and vim.fn.strdisplaywidth(message) <= room) then
    vim.notify(message, level, { title = 'codegen' })
    return
  end
  local first = message:gsub('\n.*', '')
  local shown = vim.fn.strcharpart(first, 0, math.max(room - vim.fn.strdisplaywidth(POINTER), 10)) .. POINTER
  vim.api.nvim_echo({ { shown, HIGHLIGHT[level] } }, true, {})
end

return M
