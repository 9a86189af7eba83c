--- The daemon as a Neovim LSP client: start it per workspace root, attach file buffers, run commands.
---
--- Uses `vim.lsp.start` (Neovim 0.10+) rather than `vim.lsp.config`/`vim.lsp.enable` (0.11+): the
--- daemon serves every file type, and it must see only real files (buftype "", a path, no URI scheme),
--- which a FileType-driven `vim.lsp.enable` cannot express, and commands must start it before any
--- buffer is open (an empty folder to generate into).
local config = require('codegen.config')
local async = require('codegen.async')

local M = {}

M.NAME = 'codegen'

local has_011 = vim.fn.has('nvim-0.11') == 1

--- In-flight commands: request id -> {client, title, token, done}.
--- @type table<integer, {client: vim.lsp.Client, title: string, token: string, done: fun(err: table|nil, result: any)}>
M.running = {}

local next_token = 0

--- How each daemon of this session ended (for :CodegenLog): {time, root, code, signal}.
M.exits = {}

--- Call a client method: `client:name(...)` on 0.11+, `client.name(...)` on 0.10 (methods became
--- methods in 0.11 and the dot form is deprecated there).
--- @param client vim.lsp.Client
--- @param name string
function M.call(client, name, ...)
  if has_011 then
    return client[name](client, ...)
  end
  return client[name](...)
end

--- Is this buffer a file on disk that the daemon can read (not a help, terminal or `scheme://` buffer)?
--- @param bufnr integer
--- @return boolean
function M.is_file_buffer(bufnr)
  if not vim.api.nvim_buf_is_valid(bufnr) or vim.bo[bufnr].buftype ~= '' then
    return false
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= '' and not name:match('^%a[%w+.-]*://')
end

local function is_under(path, root)
  path, root = vim.fs.normalize(path), vim.fs.normalize(root)
  return path == root or path:sub(1, #root + 1) == root .. '/'
end

--- The workspace root for a path (a file or folder): the nearest folder with a root marker, else the
--- current directory when the path is inside it.
--- @param path string
--- @return string|nil
function M.root_for(path)
  local root = vim.fs.root(path, config.values.root_markers)
  if root then
    return vim.fs.normalize(root)
  end
  local cwd = vim.fs.normalize(vim.fn.getcwd())
  if is_under(vim.fn.fnamemodify(path, ':p'), cwd) then
    return cwd
  end
  return nil
end

--- The root commands act on: the current file's root, else the current directory's.
--- @return string
function M.current_root()
  local buf = vim.api.nvim_get_current_buf()
  if M.is_file_buffer(buf) then
    local root = M.root_for(vim.api.nvim_buf_get_name(buf))
    if root then
      return root
    end
  end
  return M.root_for(vim.fn.getcwd()) or vim.fs.normalize(vim.fn.getcwd())
end

--- The daemon's serverInfo from its initialize result, per client id (0.10 does not keep it).
local server_infos = {}

--- The daemon's name and version as it sent them: client.server_info on 0.11+; on 0.10, which
--- drops serverInfo, what on_init kept.
--- @param client vim.lsp.Client
--- @return lsp.ServerInfo|nil
function M.server_info(client)
  return client.server_info or server_infos[client.id]
end

local function client_config(root)
  return {
    name = M.NAME,
    cmd = config.values.cmd,
    root_dir = root,
    init_options = config.daemon_settings(),
    handlers = { ['workspace/applyEdit'] = require('codegen.preview').handler },
    on_init = function(client, result)
      server_infos[client.id] = result and result.serverInfo
    end,
    on_exit = function(code, signal, client_id)
      table.insert(M.exits, { time = os.date('%H:%M:%S'), root = root, code = code, signal = signal })
      -- Neovim drops the callbacks of a dead server's requests: end our commands with the reason,
      -- and close their previews (nobody would record or undo what accepting one writes).
      vim.schedule(function()
        require('codegen.preview').reject_all(client_id)
        M.fail_running(client_id, ('the daemon exited (code %d%s) while the command ran; :CodegenLog shows '
          .. 'why, :CodegenRestart starts it again'):format(code, signal ~= 0 and (', signal ' .. signal) or ''))
      end)
    end,
  }
end

--- End every running command of a client with an error (its daemon is gone).
--- @param client_id integer
--- @param message string
function M.fail_running(client_id, message)
  for _, entry in pairs(M.running) do
    if entry.client.id == client_id then
      entry.done({ code = -32803, message = message }, nil)
    end
  end
end

--- The running client for ``root``, if any.
--- @param root string
--- @return vim.lsp.Client|nil
function M.find(root)
  for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    if client.root_dir and vim.fs.normalize(client.root_dir) == root and not M.call(client, 'is_stopped') then
      return client
    end
  end
  return nil
end

--- Attach a file buffer to the daemon of its root: starting it when ``start`` (the autostart path, for
--- the filetypes of `autostart`), else only when it runs already (a command started it).
--- @param bufnr integer
--- @param start boolean|nil
function M.attach(bufnr, start)
  if not M.is_file_buffer(bufnr) or vim.fn.executable(config.values.cmd[1]) == 0 then
    return -- :checkhealth codegen says why; no warning on every file opened
  end
  local root = M.root_for(vim.api.nvim_buf_get_name(bufnr))
  if not root then
    return
  end
  if start then
    vim.lsp.start(client_config(root), { bufnr = bufnr, silent = true })
  else
    local running = M.find(root)
    if running and not vim.lsp.buf_is_attached(bufnr, running.id) then
      vim.lsp.buf_attach_client(bufnr, running.id)
    end
  end
end

--- The filetypes that start the daemon when a file of theirs opens (`autostart`).
--- @return string[]
function M.autostart_filetypes()
  local autostart = config.values.autostart
  if autostart == true then
    return config.INDEXED_FILETYPES
  end
  return type(autostart) == 'table' and autostart or {}
end

local function attach_open_files(client, root)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and M.is_file_buffer(buf)
        and is_under(vim.api.nvim_buf_get_name(buf), root)
        and not vim.lsp.buf_is_attached(buf, client.id) then
      vim.lsp.buf_attach_client(buf, client.id)
    end
  end
end

--- The client for ``root``, started if needed and initialized (awaits; call inside `async.run`).
--- @param root string
--- @return vim.lsp.Client|nil client
--- @return string|nil error
function M.ensure(root)
  local client = M.find(root)
  if not client then
    local cmd = config.values.cmd
    if vim.fn.executable(cmd[1]) == 0 then
      return nil, ('the daemon %q was not found. Fix: install codegen (pip install -e . in the codegen repo) '
        .. 'so codegen-server is on PATH, or set cmd in require("codegen").setup(); see :checkhealth codegen')
        :format(cmd[1])
    end
    local id
    if has_011 then
      id = vim.lsp.start(client_config(root), { attach = false, silent = true })
    else
      id = vim.lsp.start_client(client_config(root))
    end
    client = id and vim.lsp.get_client_by_id(id)
    if not client then
      return nil, ('the daemon could not be started with %s; see :checkhealth codegen'):format(table.concat(cmd, ' '))
    end
  end
  local ready = async.poll(function()
    return client.initialized or M.call(client, 'is_stopped')
  end, 30000)
  if not ready or M.call(client, 'is_stopped') then
    return nil, 'the daemon stopped while starting; :CodegenLog shows why (see also :checkhealth codegen)'
  end
  attach_open_files(client, root)
  return client
end

--- A JSON object argument: Lua's empty table would be sent as a list.
local function object(t)
  return next(t) == nil and vim.empty_dict() or t
end

--- Run a daemon command and await its answer (call inside `async.run`).
--- @param client vim.lsp.Client
--- @param command string e.g. "codegen.generateProject"
--- @param args table the command's one JSON object
--- @param title string shown in the statusline while it runs
--- @return table|nil err LSP ResponseError
--- @return any result
function M.execute(client, command, args, title)
  next_token = next_token + 1
  local token = ('codegen-nvim-%d'):format(next_token)
  local params = { command = command, arguments = { object(args) }, workDoneToken = token }
  local bufnr = vim.api.nvim_get_current_buf()
  local id
  local err, result = async.await(function(done)
    local ok, request_id = M.call(client, 'request', 'workspace/executeCommand', params, function(e, r)
      done(e, r)
    end, bufnr)
    if not ok then
      done({ code = -32803, message = 'the codegen daemon is not running' }, nil)
      return
    end
    id = request_id
    M.running[id] = { client = client, title = title, token = token, done = done }
    vim.cmd.redrawstatus()
  end)
  if id then
    M.running[id] = nil
    -- The command is over: progress it left open (a dead daemon sends no "end") is stale.
    require('codegen.progress').active[token] = nil
    vim.cmd.redrawstatus()
  end
  return err, result
end

--- Cancel every command this Neovim is running (the daemon drops the model stream at once).
---
--- Once a command reports progress, the cancel goes through its progress token and the daemon answers
--- the command with `{cancelled: true}`, confirming it stopped. Before that, `$/cancelRequest` is the
--- only way; Neovim drops the daemon's RequestCancelled answer, so the command is ended here.
--- @return integer count cancelled
function M.cancel_all()
  local progress = require('codegen.progress')
  local count = 0
  for id, entry in pairs(M.running) do
    if progress.active[entry.token] then
      M.call(entry.client, 'notify', 'window/workDoneProgress/cancel', { token = entry.token })
    else
      M.call(entry.client, 'cancel_request', id)
      entry.done({ code = require('codegen.errors').REQUEST_CANCELLED, message = 'cancelled' }, nil)
    end
    count = count + 1
  end
  return count
end

--- Stop every codegen daemon (their commands end, their previews close) and wait until they are gone.
--- @return integer count stopped
function M.stop_all()
  local clients = vim.lsp.get_clients({ name = M.NAME })
  for _, c in ipairs(clients) do
    require('codegen.preview').reject_all(c.id)
    M.fail_running(c.id, 'the daemon was restarted')
    M.call(c, 'stop')
  end
  vim.wait(3000, function()
    return #vim.lsp.get_clients({ name = M.NAME }) == 0
  end, 20)
  for _, c in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    M.call(c, 'stop', true)
  end
  return #clients
end

--- Send changed settings to the running daemons.
function M.push_settings()
  for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    local params = { settings = { codegen = config.daemon_settings() } }
    M.call(client, 'notify', 'workspace/didChangeConfiguration', params)
  end
end

return M
