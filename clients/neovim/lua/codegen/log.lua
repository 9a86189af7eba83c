--- :CodegenLog — what the daemon wrote to stderr (its log: warnings, errors, a crash's traceback), as
--- Neovim's LSP client recorded it in its log file, and how each daemon of this session ended.
local client = require('codegen.client')
local config = require('codegen.config')

local M = {}

--- Neovim's LSP log file (vim.lsp.get_log_path is deprecated from 0.11 on).
local function log_path()
  local log = vim.lsp.log
  return (log and log.get_filename) and log.get_filename() or vim.lsp.get_log_path()
end

--- A Lua string literal as vim.inspect writes it, decoded (no code is run).
local function unquote(literal)
  local body = literal:match('^"(.*)"$')
  if not body then
    return literal
  end
  local escapes = { n = '\n', t = '\t', r = '\r', ['"'] = '"', ['\\'] = '\\', ["'"] = "'" }
  return (body:gsub('\\(%d%d?%d?)', function(code) return string.char(tonumber(code) % 256) end)
    :gsub('\\(.)', function(c) return escapes[c] or c end))
end

--- The daemon's stderr lines from Neovim's LSP log (the last ``max`` of them).
--- @param max integer
--- @return string[]
function M.stderr_lines(max)
  local path = log_path()
  local file = io.open(path, 'rb')
  if not file then
    return {}
  end
  local cmd = vim.inspect(config.values.cmd[1])
  local out = {}
  for line in file:lines() do
    if line:find('"stderr"', 1, true) and line:find(cmd, 1, true) then
      local text = unquote(line:match('"stderr"%s+(".*")%s*$') or line)
      for _, part in ipairs(vim.split(text, '\n', { plain = true, trimempty = true })) do
        out[#out + 1] = part
      end
    end
  end
  file:close()
  return vim.list_slice(out, math.max(1, #out - max + 1))
end

--- The log's lines: the daemons running, how the others ended, this session's messages whole, then
--- the daemons' stderr.
--- @return string[]
function M.lines()
  local lines = { '# codegen: the daemon log (:CodegenRestart starts the daemon again)' }
  for _, c in ipairs(vim.lsp.get_clients({ name = client.NAME })) do
    local info = client.server_info(c) or {}
    lines[#lines + 1] = ('# running: %s %s for %s'):format(info.name or table.concat(config.values.cmd, ' '),
      info.version or '', c.root_dir or '?')
  end
  for _, exit in ipairs(client.exits) do
    lines[#lines + 1] = ('# %s exited: code %d%s, %s'):format(exit.time, exit.code,
      exit.signal ~= 0 and (' signal ' .. exit.signal) or '', exit.root)
  end
  local messages = require('codegen.notify').messages
  if #messages > 0 then
    lines[#lines + 1] = '# messages, whole:'
    for _, message in ipairs(messages) do
      vim.list_extend(lines, vim.split(message, '\n', { plain = true }))
    end
  end
  lines[#lines + 1] = ('# stderr, from %s:'):format(log_path())
  local stderr = M.stderr_lines(2000)
  if #stderr == 0 then
    lines[#lines + 1] = '(nothing yet)'
  end
  vim.list_extend(lines, stderr)
  return lines
end

--- Open (or refresh) the log in a split, the cursor at its end.
function M.open()
  local name = 'codegen://log'
  local bufnr = vim.fn.bufnr('^' .. name .. '$')
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].bufhidden = 'wipe'
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, M.lines())
  vim.bo[bufnr].modifiable, vim.bo[bufnr].modified = false, false
  local win = vim.fn.bufwinid(bufnr)
  if win == -1 then
    vim.cmd('botright sbuffer ' .. bufnr)
    win = vim.api.nvim_get_current_win()
  end
  vim.api.nvim_set_current_win(win)
  vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(bufnr), 0 })
end

return M
