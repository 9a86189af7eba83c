--- Daemon errors as one notification a person can act on: the daemon's message plus the fix for its kind.
local M = {}

--- What to do about each `data.kind` the daemon reports (protocol: -32803 with data.kind).
M.fixes = {
  ['not-configured'] = 'Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) and CODEGEN_MODEL in the '
    .. 'environment Neovim starts from, or settings.model.baseUrl/name in setup(); then :CodegenRestart.',
  auth = 'The model endpoint refused the key: check OPENAI_API_KEY in the environment Neovim starts from.',
  ['not-found'] = 'The model endpoint does not know this model: set CODEGEN_MODEL or settings.model.name.',
  unreachable = 'Cannot reach the model endpoint: check OPENAI_BASE_URL / settings.model.baseUrl and that '
    .. 'the server is running.',
  ['rate-limited'] = 'The model endpoint is rate-limiting: wait a moment and run the command again.',
  ['server-error'] = 'The model server failed: run the command again, or check the server.',
  timeout = 'The model took too long: raise settings.model.timeout, or use a faster model.',
  ['bad-request'] = 'The model endpoint rejected the request: check settings.model.name and the endpoint.',
  ['stream-dropped'] = 'The model stream broke off: run the command again.',
  ['answer-too-large'] = 'If answers are this long, raise settings.model.maxAnswerChars in '
    .. 'require("codegen").setup().',
  ['call-too-long'] = 'If answers take this long, raise settings.model.maxCallSeconds in '
    .. 'require("codegen").setup().',
  RunNotFound = 'No such run: :CodegenUndo <Tab> lists the runs of this workspace.',
  EditError = 'The change could not be applied to the files as they are now: save your buffers and try again.',
}

--- LSP's RequestCancelled: the user cancelled (:CodegenCancel).
M.REQUEST_CANCELLED = -32800

--- Where to fix a setting the daemon names (`data.setting`, e.g. "model.baseUrl"; `data.env`, e.g.
--- "OPENAI_BASE_URL"): setup()'s `settings` or the environment Neovim starts from.
--- @return string|nil
function M.pointer(data)
  if type(data) ~= 'table' then
    return nil
  end
  local places = {}
  -- The key never goes in setup() (the plugin drops settings.model.apiKey): only the environment.
  if type(data.setting) == 'string' and data.setting ~= '' and data.setting ~= 'model.apiKey' then
    places[#places + 1] = ('settings.%s in require("codegen").setup()'):format(data.setting)
  end
  if type(data.env) == 'string' and data.env ~= '' then
    places[#places + 1] = ('$%s in the environment (:let $%s = "..." works too)'):format(data.env, data.env)
  end
  if #places == 0 then
    return nil
  end
  return 'Set ' .. table.concat(places, ' or ') .. ', then :CodegenRestart.'
end

--- The text of one error notification: one line (a multi-line message stops the flow with a
--- hit-enter prompt).
--- @param command string what was running, e.g. "generate"
--- @param err table an LSP ResponseError {code, message, data}
--- @return string
function M.format(command, err)
  local message = vim.trim(tostring(err.message or vim.inspect(err))):gsub('%s*\n%s*', ' ')
  local kind = type(err.data) == 'table' and err.data.kind or nil
  local fix = M.pointer(err.data) or (kind and M.fixes[kind])
  local text = ('codegen %s failed: %s'):format(command, message)
  if fix and not message:find(fix, 1, true) then
    text = text .. ' Fix: ' .. fix
  end
  return text
end

--- Notify one error, at ERROR level.
--- @param command string
--- @param err table
function M.notify(command, err)
  require('codegen.notify').notify(M.format(command, err), vim.log.levels.ERROR)
end

return M
