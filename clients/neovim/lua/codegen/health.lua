--- :checkhealth codegen — Neovim version, the daemon and its version, model settings, the API key.
local M = {}

-- Neovim before 0.10 names these report_*; the version check below must still reach the user there.
local health = {}
for _, name in ipairs({ 'start', 'ok', 'info', 'warn', 'error' }) do
  health[name] = vim.health[name] or vim.health['report_' .. name]
end

local function check_neovim()
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. version)
  else
    health.error('Neovim ' .. version .. ' is too old', { 'codegen needs Neovim 0.10 or newer: upgrade Neovim.' })
  end
end

local function check_daemon(cmd)
  local exe = cmd[1]
  if vim.fn.executable(exe) == 0 then
    health.error(('daemon not found: %q is not an executable file or on PATH'):format(exe), {
      'Install codegen so that codegen-server is on PATH: `pip install -e .` in the codegen repository '
        .. '(or pipx install it).',
      'Or point the plugin at it: require("codegen").setup({ cmd = { "/path/to/codegen-server" } }).',
    })
    return false
  end
  local path = vim.fn.exepath(exe)
  local ok, done = pcall(function()
    return vim.system({ path, '--version' }, { text = true }):wait(15000)
  end)
  if not ok or done.code ~= 0 then
    health.error(('daemon %s does not run: %s'):format(path, ok and (done.stderr or '') or tostring(done)), {
      'Reinstall codegen (`pip install -e .`), or fix cmd in require("codegen").setup().',
    })
    return false
  end
  health.ok(('daemon: %s (%s)'):format(vim.trim(done.stdout or ''), path))
  return true
end

local function check_model(settings)
  local model = type(settings.model) == 'table' and settings.model or {}
  local base_url = model.baseUrl or vim.env.OPENAI_BASE_URL
  local name = model.name or vim.env.CODEGEN_MODEL
  local has_key = (vim.env.OPENAI_API_KEY or '') ~= ''
  if base_url and base_url ~= '' then
    health.ok('model endpoint: ' .. base_url)
  elseif has_key then
    health.ok('model endpoint: OpenAI (OPENAI_BASE_URL not set)')
  else
    health.error('no model configured', {
      'Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for a local server (Ollama, llama.cpp, vLLM), '
        .. 'in the environment Neovim starts from; or settings.model.baseUrl in setup().',
    })
  end
  if name and name ~= '' then
    health.ok('model: ' .. name)
  else
    health.info('model: the daemon\'s default (set CODEGEN_MODEL or settings.model.name to choose one)')
  end
  M.probe_endpoint(base_url, has_key)
  -- The key itself is never shown.
  if has_key then
    health.ok('API key: OPENAI_API_KEY is set')
  elseif base_url and base_url ~= '' then
    health.info('API key: OPENAI_API_KEY is not set (fine for local servers that need none)')
  else
    health.warn('API key: OPENAI_API_KEY is not set', { 'export OPENAI_API_KEY=... before starting Neovim.' })
  end
end

--- GET {endpoint}/models: is the endpoint there, and does it take the key? (curl, with the key given on
--- its stdin so that it never shows in a process list.)
function M.probe_endpoint(base_url, has_key)
  local url = ((base_url and base_url ~= '') and base_url or 'https://api.openai.com/v1'):gsub('/+$', '') .. '/models'
  if vim.fn.executable('curl') == 0 then
    health.info('endpoint not probed: curl is not installed')
    return
  end
  local headers = has_key and ('Authorization: Bearer ' .. vim.env.OPENAI_API_KEY .. '\n') or ''
  local ok, done = pcall(function()
    return vim.system({ 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-H', '@-', url },
      { text = true, stdin = headers }):wait(10000)
  end)
  local status = ok and tonumber(vim.trim(done.stdout or '')) or 0
  if status >= 200 and status < 300 then
    health.ok(('endpoint answers: GET %s -> %d'):format(url, status))
  elseif status == 401 or status == 403 then
    health.error(('endpoint refused the key: GET %s -> %d'):format(url, status),
      { 'Check OPENAI_API_KEY in the environment Neovim starts from, then :CodegenRestart.' })
  elseif status > 0 then
    health.warn(('endpoint answered GET %s with %d'):format(url, status),
      { 'Some servers have no /models; if commands fail, check settings.model.baseUrl / OPENAI_BASE_URL.' })
  else
    local why = ok and vim.trim(done.stderr or '') or tostring(done)
    health.error(('endpoint unreachable: GET %s failed (%s)'):format(url, why ~= '' and why or 'no answer'), {
      'Start the model server, or fix settings.model.baseUrl / OPENAI_BASE_URL; then :CodegenRestart.',
    })
  end
end

local function check_clients()
  local clients = vim.lsp.get_clients({ name = 'codegen' })
  if #clients == 0 then
    health.info('no daemon running yet (it starts with the first file opened or the first command)')
  end
  for _, client in ipairs(clients) do
    local info = require('codegen.client').server_info(client) or {}
    health.ok(('daemon running for %s: %s %s (client id %d)'):format(client.root_dir or '?',
      info.name or 'codegen-server', info.version or '(no version sent)', client.id))
  end
end

function M.check()
  local config = require('codegen.config')
  health.start('codegen: Neovim')
  check_neovim()
  health.start('codegen: daemon')
  if check_daemon(config.values.cmd) then
    check_clients()
  end
  health.start('codegen: model')
  check_model(config.values.settings)
end

return M
